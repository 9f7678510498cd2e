// Watches the free memory of the device a run uses while its steps go: other programs may take memory the
// plan counted on. Sampled on a timer (the event loop turns between the step's session runs); the run asks
// after each step whether free memory fell below the floor, and stops there with its checkpoint saved rather
// than let the system kill it mid-step.
export interface MemoryPressure {
  /** The least free memory seen since the last check. */
  lowestFreeBytes: number;
  floorBytes: number;
}

export class MemoryWatch {
  private lowest = Infinity;
  /** The least free memory seen since start(), for the stage's log. */
  lowestSinceStart = Infinity;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reading = false;

  /**
   * `readFree` gives the device's free bytes now; below `floorBytes` the run should stop. NVML and
   * /proc/meminfo answer in microseconds; a Vulkan budget query starts the driver, so it is sampled slower.
   */
  constructor(
    private readonly readFree: () => number | Promise<number>,
    private readonly floorBytes: number,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    if (this.timer) return this;
    this.lowestSinceStart = Infinity;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    // a watch never keeps a process alive
    this.timer.unref?.();
    return this;
  }

  /** Pressure since the last check (the lowest free memory under the floor), or null; starts a new interval. */
  async check(): Promise<MemoryPressure | null> {
    await this.sample();
    const lowest = this.lowest;
    this.lowest = Infinity;
    return lowest < this.floorBytes ? { lowestFreeBytes: lowest, floorBytes: this.floorBytes } : null;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const free = await this.readFree();
      if (Number.isFinite(free)) {
        this.lowest = Math.min(this.lowest, free);
        this.lowestSinceStart = Math.min(this.lowestSinceStart, free);
      }
    } catch {
      // a probe that fails once says nothing about pressure
    } finally {
      this.reading = false;
    }
  }
}

/**
 * The free memory under which a run stops after its step: what the system needs to stay responsive
 * (the larger of 512 MiB and 3% of what the device had free when the run planned).
 */
export const memoryFloor = (planningFreeBytes: number) => Math.max(512 * 2 ** 20, 0.03 * planningFreeBytes);
