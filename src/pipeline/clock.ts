/** Converts CLOCK_MONOTONIC nanoseconds (what both probes stamp) to nanoseconds since the Unix epoch. */
export class EpochClock {
  readonly offsetNs: number;

  constructor() {
    // sampled back to back: the offset is good to a few microseconds
    const mono = Number(process.hrtime.bigint());
    const real = (performance.timeOrigin + performance.now()) * 1e6;
    this.offsetNs = real - mono;
  }

  toEpoch(monoNs: number): number {
    return monoNs + this.offsetNs;
  }
}
