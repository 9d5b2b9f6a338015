/**
 * Admission of statements to one DuckDB instance, fair between requests. Handed straight to DuckDB, every statement
 * of every request competes for the same worker threads, so one request with a hundred slow statements made another
 * client's cheap one wait 17 s. Here at most `slots` statements run at once; the others wait in one queue per owner
 * (a request), and a freed slot goes to the owner served longest ago (round robin), not to the oldest statement.
 * One owner holds at most `perOwner` slots (half by default), so a second owner never waits for all of the first's
 * statements, only for a slot.
 */

/** Gives back a slot. */
export type ReleaseSlot = () => void;

interface Waiter {
  readonly grant: (release: ReleaseSlot) => void;
}

interface OwnerState {
  readonly owner: object;
  readonly waiting: Waiter[];
  running: number;
  /** When it was last granted a slot (a grant counter; -1: never). */
  lastServed: number;
}

/** A fair admission queue (see the module comment). */
export class StatementQueue {
  readonly slots: number;
  readonly perOwner: number;
  /** Owners with statements waiting or running, in order of arrival. */
  private readonly owners = new Map<object, OwnerState>();
  private grants = 0;
  private runningNow = 0;
  private waitingNow = 0;

  constructor(slots: number, perOwner = Math.max(1, Math.floor(slots / 2))) {
    this.slots = Math.max(1, Math.floor(slots));
    this.perOwner = Math.min(this.slots, Math.max(1, Math.floor(perOwner)));
  }

  /** Statements holding a slot. */
  get running(): number {
    return this.runningNow;
  }

  /** Statements waiting for one. */
  get waiting(): number {
    return this.waitingNow;
  }

  /**
   * Waits for a slot for a statement of `owner`; resolves with the function that gives it back (call it exactly once).
   * Rejects with `signal.reason` when the signal aborts first (the statement leaves the queue).
   */
  acquire(owner: object, signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const state = this.stateOf(owner);
      const onAbort = () => {
        const at = state.waiting.indexOf(waiter);
        if (at < 0) return; // already granted: the caller stops it through its connection
        state.waiting.splice(at, 1);
        this.waitingNow--;
        this.forget(owner, state);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      state.waiting.push(waiter);
      this.waitingNow++;
      this.dispatch();
    });
  }

  private stateOf(owner: object): OwnerState {
    let state = this.owners.get(owner);
    if (!state) this.owners.set(owner, (state = { owner, waiting: [], running: 0, lastServed: -1 }));
    return state;
  }

  private forget(owner: object, state: OwnerState): void {
    if (state.waiting.length === 0 && state.running === 0) this.owners.delete(owner);
  }

  /** The waiting owner under its share served longest ago (first arrived among equals), if any. */
  private next(): OwnerState | null {
    let best: OwnerState | null = null;
    for (const state of this.owners.values()) {
      if (state.waiting.length === 0 || state.running >= this.perOwner) continue;
      if (!best || state.lastServed < best.lastServed) best = state;
    }
    return best;
  }

  /** Grants free slots, one statement at a time to the owner whose turn it is. */
  private dispatch(): void {
    while (this.runningNow < this.slots) {
      const state = this.next();
      if (!state) return;
      const waiter = state.waiting.shift()!;
      this.waitingNow--;
      state.lastServed = this.grants++;
      state.running++;
      this.runningNow++;
      let released = false;
      waiter.grant(() => {
        if (released) return;
        released = true;
        state.running--;
        this.runningNow--;
        this.forget(state.owner, state);
        this.dispatch();
      });
    }
  }
}

// One queue per DuckDB instance: every reader of the instance (GraphQL, datasets) shares its slots.
const queues = new WeakMap<object, StatementQueue>();

/** Default slots: a few statements at once keep two to four cores busy without making a cheap one wait long. */
export const DEFAULT_RUNNING_STATEMENTS = 4;

/** The queue of `db` (created with `slots` on first use; `configureStatementQueue` sets it at start). */
export function statementQueueOf(db: object): StatementQueue {
  let queue = queues.get(db);
  if (!queue) queues.set(db, (queue = new StatementQueue(DEFAULT_RUNNING_STATEMENTS)));
  return queue;
}

/** Sets the slots of `db`'s queue (the server does this once at start, before any statement runs). */
export function configureStatementQueue(db: object, slots: number): StatementQueue {
  const queue = new StatementQueue(slots);
  queues.set(db, queue);
  return queue;
}
