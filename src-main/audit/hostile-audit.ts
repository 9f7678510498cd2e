// `npm run audit:hostile [-- --seed N] [--rows web,photos,weights,folders,kills,shared]`: the hostile-input
// audit of issue 11, rerunnable. Each row hands one surface what an attacker or an unlucky user would,
// against the built CLI and a web-mode server process, and counts what happened: accepted, refused
// clearly, crashed, hung, an internal error, or work lost. Prints the table as JSON; exits 1 unless
// every row has 0 crashes, 0 hangs, 0 internal errors and nothing lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SeededRandom } from '../graph/random.js';
import { hostileFolders, hostilePhotos, hostileWeights, type HostileInput } from './hostile-inputs.js';
import { killMidWrite, noisePhotos, shareOneLibrary } from './library-under-stress.js';
import { cliOutcome, libraryDamage, runCli, Tally } from './outcomes.js';
import { attackWebServer } from './web-attacks.js';

const ROWS = ['web', 'photos', 'weights', 'folders', 'kills', 'shared'] as const;

const { values } = parseArgs({
  options: { seed: { type: 'string', default: '20261202' }, rows: { type: 'string', default: ROWS.join(',') }, keep: { type: 'boolean' } },
});
const seed = Number(values.seed);
const rows = values.rows!.split(',');
const root = mkdtempSync(join(tmpdir(), 'si-audit-'));

/** Each input through each command, in a fresh library per row; the library must be whole afterwards. */
async function throughCli(tally: Tally, inputs: HostileInput[], commands: Array<(path: string) => string[]>, dataDir: string) {
  for (const input of inputs) {
    for (const argsOf of commands) {
      const args = [...argsOf(input.path), '--data-dir', dataDir];
      const result = await runCli(args, 60_000);
      const command = args[0] === 'models' ? `models ${args[1]}` : args[0];
      tally.add(cliOutcome(result), `${command} ${input.name}`, result.stderr.trim().split('\n').at(-1));
    }
  }
  const damage = libraryDamage(dataDir, { orphansCount: true });
  if (damage.length) tally.add('lost', 'the library afterwards', damage.join('; '));
}

const table: Tally[] = [];
const started = Date.now();
try {
  for (const row of rows) {
    const dir = join(root, row);
    const t0 = Date.now();
    // each row draws from its own stream: its inputs do not depend on which rows ran before it
    const r = new SeededRandom(seed + ROWS.indexOf(row as (typeof ROWS)[number]));
    let tally: Tally;
    switch (row) {
      case 'web':
        tally = new Tally('web-mode API, files, upload and WebSocket');
        await attackWebServer(join(dir, 'library'), r, tally, await noisePhotos(6, 320, 240));
        break;
      case 'photos':
        tally = new Tally('photo import (CLI)');
        await throughCli(tally, await hostilePhotos(join(dir, 'inputs'), r), [(p) => ['import', p]], join(dir, 'library'));
        break;
      case 'weights':
        tally = new Tally('weight files (generate, models add)');
        await throughCli(
          tally,
          hostileWeights(join(dir, 'inputs'), r),
          [
            (p) => ['generate', '--model', p, '--prompt', 'a dog', '--steps', '1', '--width', '64', '--height', '64', '--out', join(dir, 'out')],
            (p) => ['models', 'add', p],
          ],
          join(dir, 'library'),
        );
        break;
      case 'folders':
        tally = new Tally('model folders (generate, models add)');
        await throughCli(
          tally,
          hostileFolders(join(dir, 'inputs')),
          [
            (p) => ['generate', '--model', p, '--prompt', 'a dog', '--steps', '1', '--width', '64', '--height', '64', '--out', join(dir, 'out')],
            (p) => ['models', 'add', p],
          ],
          join(dir, 'library'),
        );
        break;
      case 'kills':
        tally = new Tally('kill -9 of the CLI mid-import and of the server mid-upload');
        await killMidWrite(dir, r, tally);
        break;
      case 'shared':
        tally = new Tally('the CLI used while the app imports');
        await shareOneLibrary(dir, tally);
        break;
      default:
        throw new Error(`Unknown row ${row}; rows: ${ROWS.join(', ')}`);
    }
    table.push(tally);
    const c = tally.counts;
    console.error(
      `${tally.surface}: ${tally.inputs} inputs, ${c.ok} ok, ${c.refused} refused, ${c.crash} crashes, ${c.hang} hangs, ${c.internal} internal, ${c.lost} lost (${Math.round((Date.now() - t0) / 1000)} s)`,
    );
    for (const p of tally.problems) console.error(`  ${p}`);
  }
} finally {
  if (!values.keep) rmSync(root, { recursive: true, force: true });
}
const clean = table.every((t) => t.clean);
console.log(JSON.stringify({ audit: 'hostile-input', seed, seconds: Math.round((Date.now() - started) / 1000), clean, rows: table }, null, 2));
process.exitCode = clean ? 0 : 1;
