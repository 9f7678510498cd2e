// This process's memory as the kernel counts it: resident now, and the most it has been resident since
// the last reset. Linux keeps the peak (VmHWM) and lets a process reset it (clear_refs 5), so each stage
// of a run measures its own peak, and the log sets it beside the plan's estimate.
import { readFileSync, writeFileSync } from 'node:fs';

/** Bytes resident now. */
export const residentBytes = (): number => process.memoryUsage.rss();

/** Starts a new peak from now. False where the system does not allow it (the peak then covers the process's life). */
export function resetPeakResident(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The most bytes resident since the last reset (or since the process started). */
export function peakResidentBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return Math.max(process.resourceUsage().maxRSS * 1024, residentBytes());
}
