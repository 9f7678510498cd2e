import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src-main/cli/command.js';
import { rootCommand, runCli } from '../../src-main/cli/main.js';
import { FileStore } from '../../src-main/library/file-store.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The installed command itself, as a user runs it (needs `npm run build`). */
function bin(...argv: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('singleinsert CLI', () => {
  beforeAll(() => {
    if (!existsSync(fileURLToPath(new URL('../../out/src-main/cli/bin.js', import.meta.url)))) {
      throw new Error('The CLI is not built: run `npm run build` before these tests (npm test does).');
    }
  });

  it('imports, lists (text and JSON) and removes an image', async () => {
    const dataDir = tmpDir();
    const imported = bin('import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir);
    expect(imported.code).toBe(0);
    const id = imported.out.split('\t')[0]!;
    expect(id).toMatch(/^img_[0-9a-f]{12}$/);
    expect(imported.out).toContain('imported\t780x780\tdog_00.jpg');

    const listed = await cli('library', 'list', '--data-dir', dataDir);
    expect(listed.out).toContain(`${id}\timage\t780x780`);
    const json = JSON.parse((await cli('library', 'list', '--json', `--data-dir=${dataDir}`)).out) as { images: Array<{ id: string }> };
    expect(json.images.map((i) => i.id)).toEqual([id]);

    expect((await cli('import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir)).out).toContain(`${id}\tduplicate`);

    const removed = await cli('library', 'rm', id, '--data-dir', dataDir);
    expect(removed).toMatchObject({ code: 0, out: `removed ${id} (2 files)` });
    expect((await cli('library', 'list', '--data-dir', dataDir)).out).toMatch(/library is empty/);
  });

  it('refuses a corrupt file with exit 1 and one line, leaving the library unchanged', async () => {
    const dataDir = tmpDir();
    expect(bin('import', fixtureImage('chelsea.png'), '--data-dir', dataDir).code).toBe(0);
    const storeFiles = () =>
      new FileStore(join(dataDir, 'store'))
        .list()
        .map((f) => f.sha256)
        .sort();
    const filesBefore = storeFiles();
    const listBefore = (await cli('library', 'list', '--json', '--data-dir', dataDir)).out;

    const corrupt = join(tmpDir(), 'broken.jpg');
    writeFileSync(corrupt, readFileSync(fixtureImage('cat_00.jpg')).subarray(0, 3000));
    const r = bin('import', corrupt, '--data-dir', dataDir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^singleinsert: broken\.jpg: .*damaged or truncated/)]);

    expect((await cli('library', 'list', '--json', '--data-dir', dataDir)).out).toBe(listBefore);
    const after = bin('library', 'list', '--json', '--data-dir', dataDir);
    expect(after.out.trim()).toBe(listBefore);
    expect(storeFiles()).toEqual(filesBefore);
    expect(filesBefore).toHaveLength(2);
  });

  it('prints help everywhere and exits 2 on wrong usage', async () => {
    for (const argv of [['--help'], ['import', '--help'], ['library', '--help'], ['library', 'list', '-h'], ['doctor', '--help']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out).toMatch(/^Usage: singleinsert/);
    }
    expect(await cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command "frobnicate"/) });
    expect(await cli('import')).toMatchObject({ code: 2, err: expect.stringMatching(/needs at least one file/) });
    expect(await cli('library', 'list', '--bogus')).toMatchObject({ code: 2 });
    expect(await cli('library')).toMatchObject({ code: 2, err: expect.stringMatching(/Commands:/) });
  });

  it('explains every option of every command in its --help, with examples where it takes options', async () => {
    const walk = async (path: string[], command: Command): Promise<void> => {
      const r = await cli(...path, '--help');
      expect(r.code, path.join(' ')).toBe(0);
      const lines = r.out.split('\n');
      for (const name of Object.keys(command.options ?? {})) {
        const line = lines.find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
        // the flag, then at least a few words of description on the same line
        expect(line, `${path.join(' ')} --${name}`).toMatch(new RegExp(`^  --${name}(?: \\S.*?)?\\s{2,}\\S+ \\S+ \\S+`));
      }
      if (Object.keys(command.options ?? {}).length) {
        expect(r.out, `${path.join(' ')} examples`).toMatch(/\nExamples:\n {2}singleinsert /);
      }
      for (const child of command.children ?? []) await walk([...path, child.name], child);
    };
    for (const command of rootCommand.children!) await walk([command.name], command);
    // a wrong value is named by its option
    expect((await cli('generate', '--model', 'x', '--prompt', 'y', '--steps', 'many')).err).toMatch(/--steps/);
  });

  it('keeps a mask in the library, and writes files to the current folder only when asked', async () => {
    const dataDir = tmpDir();
    const imported = await cli('import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir);
    const id = imported.out.split('\t')[0]!;
    expect(await cli('mask', id, '--point', '390,390', '--data-dir', dataDir)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/give --class to save the mask in the library, or --out/),
    });
    expect(await cli('mask', fixtureImage('dog_00.jpg'), '--point', '390,390', '--data-dir', dataDir)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/give --out <file\.png>/),
    });
    const saved = await cli('mask', id, '--class', 'dog', '--point', '390,390', '--data-dir', dataDir);
    expect(saved.code, saved.err).toBe(0);
    expect(saved.err).toMatch(/saved in the library as msk_\w+ \(dog v1\)/);
    expect(saved.out.startsWith(join(dataDir, 'store'))).toBe(true);
    expect(existsSync(saved.out)).toBe(true);
    expect(existsSync('mask.png')).toBe(false);
  });

  it('fails with a one-line reason for an unknown id', async () => {
    const r = await cli('library', 'rm', 'img_0123456789ab', '--data-dir', tmpDir());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^singleinsert: No image img_0123456789ab/);
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('doctor reports the GPU probe and the ORT providers without crashing', () => {
    const r = bin('doctor', '--json', '--data-dir', tmpDir());
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { gpu: { nvidia: boolean; reason: string | null }; providers: Array<{ name: string; usable: boolean }> };
    expect(report.providers.map((p) => p.name)).toEqual(['cpu', 'webgpu', 'cuda']);
    expect(report.providers.find((p) => p.name === 'cpu')!.usable).toBe(true);
    if (!report.gpu.nvidia) expect(report.gpu.reason).toMatch(/no NVIDIA driver/);
    const text = bin('doctor', '--data-dir', tmpDir());
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/GPU:\n {2}(no NVIDIA driver|NVIDIA driver)/);
    expect(text.out).toMatch(/cpu +usable/);
    expect(text.out).toMatch(/Electron binary:/);
    // providers are probed quietly: one line each, none of onnxruntime's or Dawn's own log lines
    expect(text.err + r.err).not.toMatch(/\[E:onnxruntime|Failed to load library|Couldn't load Vulkan/);
  });
});
