// Existing model folders, used in place: an A1111 install (models/Stable-diffusion, models/Lora,
// embeddings) or a ComfyUI one (models/checkpoints, models/loras, models/embeddings, and the folders its
// extra_model_paths.yaml adds). Every usable
// file is registered where it is (nothing copied), with its family; a rescan adds new files and drops
// the ones that are gone; pickles and other families are listed as refused, with the reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { toApiError } from '../common/app-error.js';
import { readSmallFileSync } from '../common/regular-file.js';
import type { Library } from '../library/library.js';
import type { ModelRecord } from '../../src-preload/contract/index.js';
import { readSafetensorsHeader } from '../weights/safetensors.js';
import { detectFamily } from './detect-family.js';
import { hashPath } from './install.js';

type Kind = 'checkpoint' | 'lora' | 'embedding';

/** Where each kind of file lives in the layouts people have. */
const LAYOUT: Record<Kind, string[]> = {
  checkpoint: ['models/Stable-diffusion', 'models/checkpoints'],
  lora: ['models/Lora', 'models/loras'],
  embedding: ['embeddings', 'models/embeddings'],
};

const PICKLES = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

export interface ScanReport {
  added: ModelRecord[];
  /** Files already registered, left as they are. */
  kept: number;
  /** Registered files under the folder that are gone: their rows were removed. */
  removed: string[];
  refused: Array<{ path: string; reason: string }>;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** A LoRA (kohya or PEFT naming) or an embedding, from its keys; the reason when it is neither. */
function sideFileFamily(path: string, kind: Exclude<Kind, 'checkpoint'>): string | null {
  const keys = [...readSafetensorsHeader(path).tensors.keys()];
  if (kind === 'lora') return keys.some((k) => /^lora_(unet|te)_|\.lora_[AB]\.weight$/.test(k)) ? null : 'it holds no LoRA factors (kohya or diffusers naming)';
  return keys.includes('emb_params') || keys.length === 1 ? null : 'it is not a textual-inversion embedding (emb_params, or one tensor)';
}

/** ComfyUI's names for the folders this app reads, in extra_model_paths.yaml. */
const COMFY_KEYS: Record<string, Kind> = { checkpoints: 'checkpoint', loras: 'lora', embeddings: 'embedding' };
const yaml = createRequire(import.meta.url)('js-yaml') as { safeLoad(text: string): unknown };

/** `~` and `$VAR` / `${VAR}` as ComfyUI expands them in a path. */
const expand = (p: string) => p.replace(/^~(?=$|[\\/])/, homedir()).replace(/\$\{?(\w+)\}?/g, (all, name: string) => process.env[name] ?? all);

/**
 * The folders a ComfyUI extra_model_paths.yaml adds: each group's base_path (relative to the file's
 * folder) and its checkpoints / loras / embeddings entries, one path a line. A file that does not read
 * is reported, not fatal: the standard folders are still scanned.
 */
export function extraModelPaths(file: string): { folders: Array<{ kind: Kind; dir: string }>; problem?: string } {
  let doc: unknown;
  try {
    doc = yaml.safeLoad(readSmallFileSync(file, 1024 * 1024, 'a YAML file').toString('utf8'));
  } catch (err) {
    return { folders: [], problem: `it does not read as YAML (${toApiError(err).message.split('\n')[0]})` };
  }
  if (doc === null || doc === undefined) return { folders: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { folders: [], problem: 'it is not a map of groups (comfyui:, a111:, …)' };
  const folders: Array<{ kind: Kind; dir: string }> = [];
  for (const group of Object.values(doc as Record<string, unknown>)) {
    if (!group || typeof group !== 'object') continue;
    const g = group as Record<string, unknown>;
    const base = resolve(dirname(file), expand(typeof g.base_path === 'string' ? g.base_path : ''));
    for (const [key, kind] of Object.entries(COMFY_KEYS)) {
      if (typeof g[key] !== 'string') continue;
      for (const line of (g[key] as string)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean))
        folders.push({ kind, dir: resolve(base, expand(line)) });
    }
  }
  return { folders };
}

export async function scanModelFolder(library: Library, folder: string): Promise<ScanReport> {
  const root = resolve(folder);
  const report: ScanReport = { added: [], kept: 0, removed: [], refused: [] };
  const known = new Map(library.models.list().map((m) => [m.path, m]));
  const seen = new Set<string>();
  const folders = (Object.entries(LAYOUT) as Array<[Kind, string[]]>).flatMap(([kind, dirs]) => dirs.map((d) => ({ kind, dir: join(root, d) })));
  const extra = join(root, 'extra_model_paths.yaml');
  if (existsSync(extra)) {
    const { folders: more, problem } = extraModelPaths(extra);
    if (problem) report.refused.push({ path: extra, reason: problem });
    folders.push(...more);
  }
  const scanned = new Set<string>();
  for (const { kind, dir } of folders) {
    if (scanned.has(`${kind}:${dir}`) || !existsSync(dir) || !statSync(dir).isDirectory()) continue;
    scanned.add(`${kind}:${dir}`);
    for (const path of filesUnder(dir)) {
      const ext = extname(path).toLowerCase();
      if (PICKLES.has(ext)) {
        report.refused.push({ path, reason: 'a pickle file, which can run code when opened; use its .safetensors version' });
        continue;
      }
      if (ext !== '.safetensors' || seen.has(path)) continue;
      seen.add(path);
      if (known.has(path)) {
        report.kept++;
        continue;
      }
      try {
        let family: string = kind;
        if (kind === 'checkpoint') family = detectFamily(path).family;
        else {
          const why = sideFileFamily(path, kind);
          if (why) {
            report.refused.push({ path, reason: why });
            continue;
          }
        }
        const { sha256, bytes } = await hashPath(path);
        report.added.push(
          library.models.add({ family, format: 'single-file', name: basename(path), path, managed: false, sha256, sizeBytes: bytes, sourceUrl: null }),
        );
      } catch (err) {
        report.refused.push({ path, reason: toApiError(err).message });
      }
    }
  }
  // what was registered from these folders and is gone now
  const roots = [root, ...folders.map((f) => f.dir)];
  for (const m of known.values()) {
    if (!m.managed && roots.some((r) => m.path.startsWith(r + sep)) && !seen.has(m.path) && !existsSync(m.path)) {
      library.models.delete(m.id);
      report.removed.push(m.path);
    }
  }
  return report;
}
