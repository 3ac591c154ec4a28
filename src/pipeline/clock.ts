/** Converts CLOCK_MONOTONIC nanoseconds (what both probes stamp) to nanoseconds since the Unix epoch. */
export class EpochClock {
  /** Wall clock minus monotonic clock, exactly (ns). */
  readonly offsetExact: bigint;
  readonly offsetNs: number;
  // the exact offset in whole seconds and the nanoseconds left, for exact digits without BigInt per event
  private readonly offsetSeconds: number;
  private readonly offsetRest: number;

  /** relative: Tracee's relative-time, the probes' CLOCK_MONOTONIC ns (time since boot, less any suspend) as they are. */
  constructor(relative = false) {
    this.offsetExact = relative ? 0n : sampleOffset();
    this.offsetNs = Number(this.offsetExact);
    this.offsetSeconds = Number(this.offsetExact / 1_000_000_000n);
    this.offsetRest = Number(this.offsetExact % 1_000_000_000n);
  }

  /** ns since the epoch as a double (~256 ns resolution at today's dates). */
  toEpoch(monoNs: number): number {
    return monoNs + this.offsetNs;
  }

  /** ns since the epoch, exactly, as decimal digits (monoNs is an exact integer below 2^53: ~104 days of uptime). */
  toEpochDigits(monoNs: number): string {
    const rest = monoNs % 1e9;
    let seconds = (monoNs - rest) / 1e9 + this.offsetSeconds;
    let ns = rest + this.offsetRest;
    if (ns >= 1e9) {
      ns -= 1e9;
      seconds += 1;
    }
    if (seconds === 0) return String(ns);
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastPrefix = String(seconds);
    }
    return this.lastPrefix + (ns >= 1e8 ? String(ns) : String(ns).padStart(9, '0')); // hot path: the seconds' text made once a second
  }

  private lastSeconds = -1;
  private lastPrefix = '';
}

/**
 * Wall clock minus monotonic clock, to a few microseconds. Date.now() steps once a millisecond: each sample catches a
 * step between two monotonic readings, and the median of five drops a sample the VM paused in (seen: 50-760 µs off).
 * (performance.timeOrigin + performance.now() drifted 1.8 ms from the monotonic clock in 200 ms on the dev VM.)
 */
function sampleOffset(): bigint {
  const offsets: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    let wall = start;
    let mono = process.hrtime.bigint();
    while (wall === start) {
      mono = process.hrtime.bigint();
      wall = Date.now();
    }
    offsets.push(BigInt(wall) * 1_000_000n - mono);
  }
  return offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[2];
}
