import type { Detector } from '../detect/detector.js';
import type { SyscallEvent } from '../model/event.js';
import type { StreamItem } from '../model/stream.js';

/**
 * detect: each event the user asked to see, then its findings. Events traced only for the signatures (or every
 * event, with --detect-only) stay out of the stream; findings always go in.
 */
export class DetectStage {
  constructor(
    readonly detector: Detector | undefined,
    private readonly hidden: (eventName: string) => boolean,
  ) {}

  /** Hot path: appends to the batch being built, no array per event. */
  run(ev: SyscallEvent, out: StreamItem[]): void {
    if (!this.hidden(ev.eventName)) out.push(ev);
    this.detector?.detectInto(ev, out);
  }
}
