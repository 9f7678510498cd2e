import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../common/app-error.js';
import { Library } from '../library/library.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface GlobalOptions {
  dataDir: string;
}

/** One option as `--help` explains it and node's parseArgs reads it. */
export interface CliOption {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** One sentence: what it does, in the user's words. */
  description: string;
  /** The value's placeholder in the help (`<dir>`, `x,y`); `<value>` when not given. */
  value?: string;
  /** What happens without it, shown as "(default: …)". */
  default?: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Sub-commands (e.g. `library list`); a command has either these or `run`. */
  children?: Command[];
  options?: Record<string, CliOption>;
  /** Whole command lines a person can copy. */
  examples?: string[];
  run?: (args: { positionals: string[]; values: Record<string, unknown>; global: GlobalOptions; io: CliIo }) => Promise<number>;
}

/** `--json`: the same answer as machine-readable JSON on stdout. */
export const JSON_OPTION: CliOption = { type: 'boolean', description: 'Print the result as JSON instead of text.' };

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends AppError {
  constructor(message: string) {
    super('invalid-input', message);
  }
}

export function parseCommandArgs(command: Command, argv: string[]) {
  try {
    const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
    for (const [name, o] of Object.entries(command.options ?? {})) options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) };
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

export function helpText(command: Command, path: string): string {
  const lines = [`Usage: ${path} ${command.usage}`.trimEnd(), '', command.summary];
  if (command.children?.length) {
    lines.push('', 'Commands:');
    const width = Math.max(...command.children.map((c) => c.name.length));
    for (const c of command.children) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
    lines.push('', `Run \`${path} <command> --help\` for a command's options.`);
  }
  const rows: Array<[string, string]> = Object.entries(command.options ?? {}).map(([name, o]) => [
    `--${name}${o.type === 'string' ? ` ${o.value ?? '<value>'}` : ''}${o.multiple ? ' (repeatable)' : ''}`,
    `${o.description}${o.default ? ` (default: ${o.default})` : ''}`,
  ]);
  rows.push(['--data-dir <dir>', "The library folder (default: the app's, or $SINGLEINSERT_DATA_DIR)."], ['-h, --help', 'Show this help.']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  lines.push('', 'Options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`));
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** An integer option within [min, max], or undefined when not given; a usage error otherwise. */
export function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(raw)}"`);
  return n;
}

/** Runs `fn` on the library of --data-dir, closing it however `fn` ends. */
export async function withLibrary<T>(global: GlobalOptions, fn: (library: Library) => Promise<T> | T): Promise<T> {
  const library = Library.open(global.dataDir);
  try {
    return await fn(library);
  } finally {
    library.close();
  }
}
