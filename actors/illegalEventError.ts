/**
 * Thrown when an event is folded onto a state that rejects it. Stored events are facts, so this
 * always means a bug (a writer appended something the machine forbids, or events were mixed up).
 */
export class IllegalEventError extends Error {
  /** Stable code, in the style of the service's error table. */
  readonly code = 'ILLEGAL_EVENT';
  /** The rejected event. */
  readonly event: { type: string };
  /** The state that rejected it (`JobState`, `WorkerState`, or `NONE` before the first event). */
  readonly state: string;

  constructor(event: { type: string }, state: string, detail?: string) {
    super(`illegal event ${event.type} in state ${state}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'IllegalEventError';
    this.event = event;
    this.state = state;
  }
}
