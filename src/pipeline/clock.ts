/** Converts CLOCK_MONOTONIC nanoseconds (what both probes stamp) to nanoseconds since the Unix epoch. */
export class EpochClock {
  readonly offsetNs: number;

  /** relative: Tracee's relative-time, the probes' CLOCK_MONOTONIC ns (time since boot, less any suspend) as they are. */
  constructor(relative = false) {
    this.offsetNs = relative ? 0 : sampleOffset();
  }

  toEpoch(monoNs: number): number {
    return monoNs + this.offsetNs;
  }
}

/**
 * Wall clock minus monotonic clock, to a few microseconds. Date.now() steps once a millisecond: each sample catches a
 * step between two monotonic readings, and the median of five drops a sample the VM paused in (seen: 50-760 µs off).
 * (performance.timeOrigin + performance.now() drifted 1.8 ms from the monotonic clock in 200 ms on the dev VM.)
 */
function sampleOffset(): number {
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    let wall = start;
    let mono = process.hrtime.bigint();
    while (wall === start) {
      mono = process.hrtime.bigint();
      wall = Date.now();
    }
    offsets.push(wall * 1e6 - Number(mono));
  }
  return offsets.sort((a, b) => a - b)[2];
}
