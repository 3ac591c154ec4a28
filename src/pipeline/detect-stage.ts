import type { Detector } from '../detect/detector.js';
import type { SyscallEvent } from '../model/event.js';
import type { StreamItem } from '../model/stream.js';

/**
 * detect: each event the user asked to see, then its findings. Events traced only for the signatures (or every
 * event, with --detect-only) stay out of the stream; findings always go in.
 */
export class DetectStage {
  // the answer for the last event name seen: a storm is one name
  private lastName = '';
  private lastHidden = false;

  constructor(
    readonly detector: Detector | undefined,
    private readonly hidden: (eventName: string) => boolean,
  ) {}

  /** Hot path: appends to the batch being built, no array per event. */
  run(ev: SyscallEvent, out: StreamItem[]): void {
    if (!this.detector) {
      if (!this.isHidden(ev.eventName)) out.push(ev);
      return;
    }
    this.detector.advance(ev.timestamp, out); // summaries of windows that ended before this event
    if (!this.isHidden(ev.eventName)) out.push(ev);
    this.detector.detectInto(ev, out);
  }

  private isHidden(name: string): boolean {
    if (name !== this.lastName) {
      this.lastHidden = this.hidden(name);
      this.lastName = name;
    }
    return this.lastHidden;
  }

  /** Summaries of windows that ended by `nowNs` (the events' clock), when no event came to close them. */
  tick(nowNs: number, out: StreamItem[]): void {
    this.detector?.advance(nowNs, out);
  }

  /** The end of a run: summaries of every window still open. */
  flush(out: StreamItem[]): void {
    this.detector?.flush(out);
  }
}
