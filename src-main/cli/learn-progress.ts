// How a learning run shows on a terminal: a progress bar with the stage, the smoothed loss, speed and
// ETA when stderr is a terminal; one plain line per step when it is not (logs, CI, pipes).
import cliProgress from 'cli-progress';
import { formatDuration, formatMemory, formatSpeed, runPace, smoothed } from '../../src-preload/contract/run-progress.js';
import type { RunPreview, RunStep, TrainingRun } from '../../src-preload/contract/training.js';
import type { CliIo } from './command.js';

export interface LearnProgress {
  step(run: TrainingRun, step: RunStep): void;
  log(line: string): void;
  previews(run: TrainingRun, previews: RunPreview[]): void;
  stop(): void;
}

export function learnProgress(io: CliIo, interactive = process.stderr.isTTY === true): LearnProgress {
  const steps: RunStep[] = [];
  let bar: cliProgress.SingleBar | null = null;
  const describe = (run: TrainingRun, s: RunStep) => {
    steps.push(s);
    const pace = runPace(steps, run.totalSteps)!;
    const avg = smoothed(steps.map((x) => x.loss)).at(-1)!;
    const memory = s.rssMb === null ? '' : ` · ${formatMemory(s.rssMb)}`;
    return {
      stage: s.stage === 1 ? 'Stage I' : 'Stage II',
      loss: s.loss.toFixed(4),
      avg: avg.toFixed(4),
      speed: formatSpeed(pace.msPerStep),
      eta: formatDuration(pace.etaMs),
      memory,
    };
  };
  const log = (line: string) => {
    if (bar) bar.stop();
    bar = null;
    io.err(line);
  };
  return {
    step(run, s) {
      const d = describe(run, s);
      if (!interactive) {
        io.err(`${d.stage} · step ${s.step}/${run.totalSteps} · loss ${d.loss} (smoothed ${d.avg}) · ${d.speed} · ETA ${d.eta}${d.memory}`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: ' {stage} |{bar}| {value}/{total} steps · loss {avg} (this step {loss}) · {speed} · ETA {eta_text}{memory}',
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(run.totalSteps, s.step - 1, { ...d, eta_text: d.eta });
      }
      bar.update(s.step, { ...d, eta_text: d.eta });
    },
    log,
    previews(run, drawn) {
      const at = drawn[0]!;
      log(
        `${at.final ? 'Previews of the finished concept' : `Previews at step ${at.step}`}: ${drawn.length} drawn; write them out with \`singleinsert runs previews ${run.id} --out <folder>\`.`,
      );
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
