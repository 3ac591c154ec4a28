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

  /**
   * ns since the epoch, exactly, as decimal digits (monoNs is an exact integer below 2^53: ~104 days of uptime).
   * Hot path (every event): with a 10-digit seconds part (epoch dates from 2001 to 2286) the 19 digits are made as one
   * flat string from char codes, the seconds' codes once a second. Number-to-string and concatenation cost half of
   * building an event (measured on the eBPF ioctl capture: EventBuilder.build 2.3M -> 3.7M events per CPU second).
   */
  toEpochDigits(monoNs: number): string {
    let whole = Math.floor(monoNs / 1e9);
    let rest = monoNs - whole * 1e9; // exact: both below 2^53; the division may have rounded across a second
    if (rest < 0) {
      whole -= 1;
      rest += 1e9;
    } else if (rest >= 1e9) {
      whole += 1;
      rest -= 1e9;
    }
    let seconds = whole + this.offsetSeconds;
    let ns = rest + this.offsetRest;
    if (ns >= 1e9) {
      ns -= 1e9;
      seconds += 1;
    }
    if (seconds === 0) return String(ns);
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastPrefix = String(seconds);
      this.prefix = this.lastPrefix.length === 10 ? Array.from(this.lastPrefix, (c) => c.charCodeAt(0)) : undefined;
    }
    const p = this.prefix;
    if (p === undefined) return this.lastPrefix + String(ns).padStart(9, '0');
    const hi = (ns / 1e6) | 0;
    const mid = ((ns / 1e3) | 0) - hi * 1000;
    const lo = ns - ((ns / 1e3) | 0) * 1000;
    const h = (hi / 10) | 0;
    const m = (mid / 10) | 0;
    const l = (lo / 10) | 0;
    return String.fromCharCode(
      p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9],
      48 + ((h / 10) | 0), 48 + h - ((h / 10) | 0) * 10, 48 + hi - h * 10,
      48 + ((m / 10) | 0), 48 + m - ((m / 10) | 0) * 10, 48 + mid - m * 10,
      48 + ((l / 10) | 0), 48 + l - ((l / 10) | 0) * 10, 48 + lo - l * 10,
    );
  }

  private lastSeconds = -1;
  private lastPrefix = '';
  /** The seconds' digits as char codes, when there are ten of them. */
  private prefix: number[] | undefined;
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
