// How the hostile-input audit counts what happened to each input, and how it checks that a library
// came through whole. A row of its table is one Tally.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library } from '../library/library.js';
import { UNCLEAR_MESSAGE } from './mutations.js';

export const CLI = fileURLToPath(new URL('../../../bin/singleinsert.js', import.meta.url));
export const SERVER = fileURLToPath(new URL('../server/main.js', import.meta.url));

export type Outcome = 'ok' | 'refused' | 'crash' | 'hang' | 'internal' | 'lost';

/** One row of the audit's table: counts per outcome, and the first few bad cases to look at. */
export class Tally {
  readonly counts: Record<Outcome, number> = { ok: 0, refused: 0, crash: 0, hang: 0, internal: 0, lost: 0 };
  readonly problems: string[] = [];
  /** What was accepted, so a reader can judge whether it should have been. */
  readonly accepted: string[] = [];
  constructor(readonly surface: string) {}

  add(outcome: Outcome, what: string, detail = ''): void {
    this.counts[outcome]++;
    if (outcome === 'ok' && this.accepted.length < 40) this.accepted.push(what);
    if (outcome !== 'ok' && outcome !== 'refused' && this.problems.length < 12)
      this.problems.push(`${outcome}: ${what}${detail ? ` — ${detail.slice(0, 300)}` : ''}`);
  }

  get inputs(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  get clean(): boolean {
    return this.counts.crash + this.counts.hang + this.counts.internal + this.counts.lost === 0;
  }

  toJSON() {
    return { surface: this.surface, inputs: this.inputs, ...this.counts, problems: this.problems, acceptedExamples: this.accepted };
  }
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the CLI; a run past `timeoutMs` is killed and reported as timed out. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

/** A CLI run's outcome: 0 is accepted, 1 with a plain sentence is a clear refusal, anything else is a failure of ours. */
export function cliOutcome(r: CliResult): Outcome {
  if (r.timedOut) return 'hang';
  if (r.signal || (r.status !== 0 && r.status !== 1)) return 'crash';
  if (UNCLEAR_MESSAGE.test(r.stderr)) return 'internal';
  return r.status === 0 ? 'ok' : 'refused';
}

/** A refusal's outcome: clear (`refused`, or what the caller counts a refusal as), or ours (`internal`). */
export function errorOutcome(error: { code: string; message: string } | undefined, refusal: Outcome = 'refused'): Outcome {
  return !error || error.code === 'internal' || UNCLEAR_MESSAGE.test(error.message) ? 'internal' : refusal;
}

/**
 * Opens the library as the next user would and says what is wrong with it, or nothing. After a kill an
 * orphan file is expected (reconcile clears it); where no process died, `orphansCount` makes it damage.
 */
export function libraryDamage(dataDir: string, options: { orphansCount?: boolean } = {}): string[] {
  if (!existsSync(join(dataDir, 'library.sqlite'))) return [];
  const library = Library.open(dataDir, { reconcile: false });
  try {
    const damage: string[] = [];
    const integrity = library.db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') damage.push(`integrity_check: ${String(integrity)}`);
    // files a row needs that are gone are lost work; a file no row knows is left-over junk
    const report = library.reconcile({ orphanMinAgeMs: 0 });
    if (report.missingFiles.length) damage.push(`${report.missingFiles.length} files missing`);
    if (report.orphanFilesRemoved && options.orphansCount) damage.push(`${report.orphanFilesRemoved} orphan files`);
    const tmp = join(dataDir, 'store', '.tmp');
    const stray = existsSync(tmp) ? readdirSync(tmp, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
    if (stray.length) damage.push(`${stray.length} stray temp files after reconcile`);
    return damage;
  } finally {
    library.close();
  }
}
