// The `singleinsert` command: the same src-main code the app uses, without Electron.
import { toApiError } from '../common/app-error.js';
import { defaultDataDir } from '../common/data-dir.js';
import { type CliIo, type Command, helpText, parseCommandArgs, UsageError } from './command.js';
import { doctorCommand } from './commands/doctor.js';
import { evaluateCommand, evaluationsCommand } from './commands/evaluate.js';
import { exportCommand, importConceptCommand } from './commands/exchange.js';
import { galleryCommand } from './commands/gallery.js';
import { generateCommand } from './commands/generate.js';
import { importCommand } from './commands/import.js';
import { libraryCommand } from './commands/library.js';
import { learnCommand } from './commands/learn.js';
import { maskCommand } from './commands/mask.js';
import { modelsCommand } from './commands/models.js';
import { runsCommand } from './commands/runs.js';

export const rootCommand: Command = {
  name: 'singleinsert',
  summary: 'SingleInsert Studio: learn a concept from one photo and put it into Stable Diffusion.',
  usage: '<command> [options]',
  children: [
    importCommand,
    libraryCommand,
    maskCommand,
    learnCommand,
    runsCommand,
    generateCommand,
    galleryCommand,
    evaluateCommand,
    evaluationsCommand,
    exportCommand,
    importConceptCommand,
    modelsCommand,
    doctorCommand,
  ],
};

const consoleIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** Runs one command line; returns the exit code (0 ok, 1 failed, 2 wrong usage). */
export async function runCli(argv: string[], io: CliIo = consoleIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { dataDir, rest } = takeDataDir(argv);
  let command = rootCommand;
  let path = 'singleinsert';
  let args = rest;
  try {
    while (command.children && args[0] && !args[0].startsWith('-')) {
      const next = command.children.find((c) => c.name === args[0]);
      if (!next) throw new UsageError(`unknown command "${args[0]}" for ${path}`);
      command = next;
      path = `${path} ${next.name}`;
      args = args.slice(1);
    }
    const { positionals, values } = parseCommandArgs(command, args);
    if (values.help || !command.run) {
      (values.help ? io.out : io.err)(helpText(command, 'singleinsert'));
      return values.help ? 0 : 2;
    }
    if (dataDir === '') throw new UsageError('--data-dir needs a folder');
    return await command.run({ positionals, values, global: { dataDir: dataDir ?? defaultDataDir(env) }, io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`singleinsert: ${err.message} (see \`${path} --help\`)`);
      return 2;
    }
    io.err(`singleinsert: ${toApiError(err).message.split('\n')[0]}`);
    return 1;
  }
}

/** --data-dir is accepted anywhere on the line. */
function takeDataDir(argv: string[]): { dataDir: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--data-dir') dataDir = argv[++i] ?? '';
    else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
    else rest.push(arg);
  }
  return { dataDir, rest };
}
