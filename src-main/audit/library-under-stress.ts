// Rows 5 and 6 of the audit: the library when a writer is killed mid-write, and when the CLI and the
// web-mode server use it at once (as the README allows). Nothing already saved may be lost, and no
// stray or orphan file may stay.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { SeededRandom } from '../graph/random.js';
import { Library } from '../library/library.js';
import { CLI, cliOutcome, errorOutcome, libraryDamage, type Outcome, runCli, type Tally } from './outcomes.js';
import { ServerProcess } from './web-server-process.js';

/** `count` distinct noise photos (distinct bytes, so none is a duplicate of another). */
export async function noisePhotos(count: number, width: number, height: number): Promise<Buffer[]> {
  const photos: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    photos.push(
      await sharp({
        create: {
          width: width + (i % 7),
          height,
          channels: 3,
          background: { r: i % 256, g: (i * 7) % 256, b: 90 },
          noise: { type: 'gaussian', mean: 128, sigma: 30 },
        },
      })
        .png()
        .toBuffer(),
    );
  }
  return photos;
}

const imageCount = (dataDir: string) => {
  if (!existsSync(join(dataDir, 'library.sqlite'))) return 0;
  const library = Library.open(dataDir, { reconcile: false });
  try {
    return library.stats().images;
  } finally {
    library.close();
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One web import: upload the bytes, then import the upload. A good photo that does not land is lost work. */
async function webImport(server: ServerProcess, photo: Buffer, name: string): Promise<{ outcome: Outcome; detail: string }> {
  const upload = await server.post('/api/upload', photo, {}, 60_000);
  const uploadId = (upload?.body as { uploadId?: string } | undefined)?.uploadId;
  if (!uploadId) return { outcome: upload ? 'internal' : 'hang', detail: `upload: ${JSON.stringify(upload?.body)?.slice(0, 200)}` };
  const { outcome, error, detail } = await server.importUpload(uploadId, name, 60_000);
  return { outcome: outcome === 'failed' ? errorOutcome(error, 'lost') : outcome, detail };
}

/** 15 CLI imports and 15 servers mid-upload, each killed with SIGKILL at a seeded moment. */
export async function killMidWrite(dir: string, r: SeededRandom, tally: Tally): Promise<void> {
  const dataDir = join(dir, 'library');
  const photosDir = join(dir, 'photos');
  mkdirSync(photosDir, { recursive: true });
  const big = await noisePhotos(24, 1400, 1000);
  const paths = await Promise.all(
    big.map(async (bytes, i) => {
      const path = join(photosDir, `big-${i}.png`);
      await sharp(bytes).toFile(path);
      return path;
    }),
  );
  const check = (what: string, before: number) => {
    const after = imageCount(dataDir);
    const damage = libraryDamage(dataDir);
    if (after < before) damage.push(`${before - after} saved images gone`);
    tally.add(damage.length ? 'lost' : 'ok', what, damage.join('; '));
  };
  for (let i = 0; i < 15; i++) {
    const before = imageCount(dataDir);
    const child = spawn(process.execPath, [CLI, 'import', ...paths.slice((i * 5) % 20, ((i * 5) % 20) + 5), '--data-dir', dataDir], { stdio: 'ignore' });
    const closed = new Promise((resolve) => child.once('close', resolve));
    await sleep(r.int(150, 2500));
    child.kill('SIGKILL'); // (if it finished first, the kill is a no-op and the check still holds)
    await closed;
    check(`kill -9 of the CLI mid-import (${i + 1})`, before);
  }
  for (let i = 0; i < 15; i++) {
    const before = imageCount(dataDir);
    const server = await ServerProcess.start(dataDir);
    const exited = new Promise((resolve) => (server.exited ? resolve(undefined) : server.child.once('exit', resolve)));
    const work = big.slice(i % 20, (i % 20) + 4).map((photo, k) => webImport(server, photo, `web-${i}-${k}.png`));
    await sleep(r.int(100, 2500));
    server.child.kill('SIGKILL');
    await Promise.allSettled(work);
    await exited;
    check(`kill -9 of the server mid-upload (${i + 1})`, before);
  }
  // the next server sweeps what the dead ones left in uploads/
  const last = await ServerProcess.start(dataDir);
  await last.stop();
  const uploads = join(dataDir, 'uploads');
  const left = existsSync(uploads) ? readdirSync(uploads, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
  if (left.length) tally.add('lost', 'uploads of killed servers', `${left.length} files left in uploads/`);
}

/** 300 web imports while 108 CLI calls (imports, listings) use the same library. */
export async function shareOneLibrary(dir: string, tally: Tally): Promise<void> {
  const dataDir = join(dir, 'library');
  const photosDir = join(dir, 'photos');
  mkdirSync(photosDir, { recursive: true });
  const web = await noisePhotos(300, 240, 180);
  const cliPhotos = await Promise.all(
    (await noisePhotos(36, 250, 190)).map(async (bytes, i) => {
      const path = join(photosDir, `cli-${i}.png`);
      await sharp(bytes).toFile(path);
      return path;
    }),
  );
  const server = await ServerProcess.start(dataDir);
  let landed = 0;
  try {
    const webWork = (async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < web.length; i = next++) {
          const { outcome, detail } = await webImport(server, web[i]!, `web-${i}.png`);
          if (outcome === 'ok') landed++;
          tally.add(outcome, `web import ${i}`, detail);
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
    })();
    const cliWork = (async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < 108; i = next++) {
          const kind = i % 3;
          const args = kind === 0 ? ['import', cliPhotos[i / 3]!] : kind === 1 ? ['library', 'list'] : ['models', 'list'];
          const result = await runCli([...args, '--data-dir', dataDir]);
          const outcome = cliOutcome(result);
          if (kind === 0 && outcome === 'ok') landed++;
          // a good photo the CLI could not import is lost work, whatever the message
          tally.add(outcome === 'refused' ? 'lost' : outcome, `CLI ${args.slice(0, 2).join(' ')}`, result.stderr.trim());
        }
      };
      await Promise.all(Array.from({ length: 3 }, worker));
    })();
    await Promise.all([webWork, cliWork]);
  } finally {
    await server.stop();
  }
  const damage = libraryDamage(dataDir, { orphansCount: true });
  const images = imageCount(dataDir);
  if (images !== landed) damage.push(`${landed} imports reported done but the library holds ${images} images`);
  if (damage.length) tally.add('lost', 'the shared library afterwards', damage.join('; '));
}
