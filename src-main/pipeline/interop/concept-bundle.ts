// .siconcept bundles: one concept moved between libraries as a zip of a versioned manifest, the concept
// file (token + LoRA), its thumbnail and its run's previews. Reading one is strict: every entry is
// checked from the archive's directory before anything is inflated (names inside the archive only, no
// links, sizes within limits), the manifest against its schema and version, the tensors against the
// manifest; a refused bundle changes nothing.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { z } from 'zod';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import { readConceptFile } from '../compose/concept-file.js';
import { slugOf } from './concept-exchange.js';

const BUNDLE_FORMAT = 'singleinsert-concept-bundle';
const BUNDLE_VERSION = 1;
/** A concept file is about 3 MB at rank 4, a preview under 1 MB: these limits leave room and stop bombs. */
const MAX_ENTRY_BYTES = 64 << 20;
const MAX_TOTAL_BYTES = 256 << 20;
const MAX_ENTRIES = 64;

const manifest = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    version: z.literal(BUNDLE_VERSION),
    concept: z
      .object({
        name: z.string().min(1).max(200),
        classWord: z.string().min(1).max(64),
        kind: z.enum(['subject', 'style']).default('subject'),
        notes: z.string().max(10_000),
        tags: z.array(z.string().max(40)).max(30),
      })
      .strict(),
    baseModel: z.object({ name: z.string().max(500), sha256: z.string().max(64).nullable() }).strict(),
    /** The learning run's settings, when it was learned here. */
    settings: z.record(z.string(), z.unknown()).nullable(),
    files: z.object({ concept: z.literal('concept.safetensors'), thumbnail: z.string().nullable(), previews: z.array(z.string()).max(32) }).strict(),
    createdAt: z.string(),
  })
  .strict();
type Manifest = z.infer<typeof manifest>;

const refuse = (why: string) => new AppError('corrupt-file', `This .siconcept bundle cannot be imported: ${why}. Nothing was changed.`);

/** Writes the concept as one .siconcept file. */
export async function exportBundle(library: Library, conceptId: string, outDir: string): Promise<string> {
  const c = library.concepts.get(conceptId);
  const detail = (() => {
    const run = library.runs.ofConcept(conceptId);
    return run ? library.runs.detail(run.id) : null;
  })();
  const model = c.baseModelId ? library.models.list().find((m) => m.id === c.baseModelId) : undefined;
  const files: Record<string, Uint8Array> = { 'concept.safetensors': readFileSync(library.concepts.filePath(conceptId)) };
  let thumbnail: string | null = null;
  if (c.thumbSha256) {
    thumbnail = 'thumbnail.webp';
    files[thumbnail] = await library.store.read(c.thumbSha256);
  }
  const previews: string[] = [];
  for (const p of (detail?.previews ?? []).filter((x) => x.final)) {
    const name = `previews/${p.promptIndex}.png`;
    files[name] = await library.store.read(p.sha256);
    previews.push(name);
  }
  const m: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    concept: { name: c.name, classWord: c.classWord, kind: c.kind, notes: c.notes, tags: c.tags },
    baseModel: { name: model?.name ?? 'unknown', sha256: model?.sha256 ?? null },
    settings: detail ? (detail.run.settings as unknown as Record<string, unknown>) : null,
    files: { concept: 'concept.safetensors', thumbnail, previews },
    createdAt: new Date().toISOString(),
  };
  files['manifest.json'] = Buffer.from(JSON.stringify(m, null, 2));
  const path = join(outDir, `${slugOf(c.name)}.siconcept`);
  writeFileSync(path, zipSync(files, { level: 6 }));
  return path;
}

/** The archive's entries from its central directory: names, declared sizes, and whether each is a link. */
function directory(zip: Uint8Array): Array<{ name: string; size: number; link: boolean }> {
  const buf = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || end + 22 > buf.length) throw refuse('it is not a zip archive');
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  if (count > MAX_ENTRIES) throw refuse(`it holds ${count} entries (at most ${MAX_ENTRIES})`);
  const entries: Array<{ name: string; size: number; link: boolean }> = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) throw refuse('its directory is damaged');
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    const mode = buf.readUInt32LE(at + 38) >>> 16;
    entries.push({ name: buf.toString('utf8', at + 46, at + 46 + nameLength), size, link: (mode & 0o170000) === 0o120000 });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

/** Imports a .siconcept bundle as a new concept (its notes, tags and thumbnail with it). */
export async function importBundle(library: Library, path: string): Promise<{ conceptId: string; notes: string[] }> {
  const zip = readFileSync(path);
  if (zip.length > MAX_TOTAL_BYTES) throw refuse(`it is ${(zip.length / 2 ** 20).toFixed(0)} MB (at most ${MAX_TOTAL_BYTES / 2 ** 20} MB)`);
  // 1. Every entry, from the directory, before anything is inflated
  let total = 0;
  for (const e of directory(zip)) {
    if (e.link) throw refuse(`${e.name} is a link`);
    if (e.name.startsWith('/') || e.name.includes('\\') || e.name.split('/').includes('..') || /^[a-zA-Z]:/.test(e.name) || e.name.includes('\0'))
      throw refuse(`${e.name} points outside the bundle`);
    if (e.size > MAX_ENTRY_BYTES) throw refuse(`${e.name} declares ${(e.size / 2 ** 20).toFixed(0)} MB (at most ${MAX_ENTRY_BYTES / 2 ** 20} MB an entry)`);
    total += e.size;
  }
  if (total > MAX_TOTAL_BYTES) throw refuse(`its entries declare ${(total / 2 ** 20).toFixed(0)} MB in all (at most ${MAX_TOTAL_BYTES / 2 ** 20} MB)`);
  let files: Record<string, Uint8Array>;
  try {
    // fflate checks each entry's inflated size against the declared one
    files = unzipSync(zip);
  } catch (err) {
    throw refuse(`it does not unpack (${(err as Error).message})`);
  }
  // 2. The manifest, its version, and the files it names
  const raw = files['manifest.json'];
  if (!raw) throw refuse('it has no manifest.json');
  let parsed: Manifest;
  try {
    const result = manifest.safeParse(JSON.parse(Buffer.from(raw).toString('utf8')));
    if (!result.success)
      throw refuse(`its manifest does not fit version ${BUNDLE_VERSION} (${result.error.issues[0]!.path.join('.')}: ${result.error.issues[0]!.message})`);
    parsed = result.data;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw refuse('its manifest is not JSON');
  }
  const conceptBytes = files[parsed.files.concept];
  if (!conceptBytes) throw refuse('it lacks the concept.safetensors its manifest names');
  // 3. The tensors: a concept file of the class word the manifest says
  const check = join(library.dataDir, 'cache', `bundle-${process.pid}-${Date.now()}.safetensors`);
  mkdirSync(join(library.dataDir, 'cache'), { recursive: true });
  writeFileSync(check, conceptBytes);
  try {
    const concept = readConceptFile(check, 'bundle');
    if (concept.token && concept.token.length !== 768) throw refuse(`its token is ${concept.token.length} wide; SD 1.x's is 768`);
    if ((concept.token === null) !== (parsed.concept.kind === 'style'))
      throw refuse(`its manifest says a ${parsed.concept.kind} concept, but its file ${concept.token ? 'has' : 'lacks'} a token`);
    if (concept.meta.classWord && concept.meta.classWord !== parsed.concept.classWord)
      throw refuse(`its concept file is a "${concept.meta.classWord}", its manifest says "${parsed.concept.classWord}"`);
  } catch (err) {
    if (err instanceof AppError && err.message.startsWith('This .siconcept')) throw err;
    throw refuse(`its concept file does not read (${(err as Error).message})`);
  } finally {
    rmSync(check, { force: true });
  }
  const thumb = parsed.files.thumbnail ? files[parsed.files.thumbnail] : undefined;
  const record = await library.concepts.add({
    name: parsed.concept.name,
    classWord: parsed.concept.classWord,
    kind: parsed.concept.kind,
    imageId: null,
    maskId: null,
    baseModelId: library.models.list().find((m) => m.sha256 && m.sha256 === parsed.baseModel.sha256)?.id ?? null,
    file: Buffer.from(conceptBytes),
    ...(thumb ? { thumb: Buffer.from(thumb) } : {}),
  });
  library.concepts.update(record.id, { notes: parsed.concept.notes, tags: parsed.concept.tags });
  const notes = library.models.list().some((m) => m.sha256 === parsed.baseModel.sha256)
    ? []
    : [`It was learned on ${parsed.baseModel.name}, which is not in this library; its LoRA fits that model best.`];
  return { conceptId: record.id, notes };
}
