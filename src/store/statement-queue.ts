/**
 * Admission of statements to one DuckDB instance, fair between clients and, within a client, first come first served
 * between its requests. Handed straight to DuckDB, every statement of every request competes for the same worker
 * threads, so one request with a hundred slow statements made another client's cheap one wait 17 s. Here at most
 * `slots` statements run at once; a freed slot goes to the client served longest ago (round robin), and within that
 * client to its request that arrived first: a client sending fifty requests at once gets the turns of one client, and
 * answers them in order. (Within a client its requests used to take turns too; then a request of five statements
 * needed five rounds of all the client's requests, each newer request slowed every older one, and under load every
 * request of more than one statement ran into its time budget while single-statement ones got through: 171 of
 * 349 requests of `bench:load --distinct` timed out. In arrival order the oldest request finishes first and a newer one
 * waits for it, so the same work gives slow answers instead of timeouts.) A client is an API key's name or the
 * caller's address; a request with no known client is a client of its own. One client holds at most `perClient`
 * slots (half by default), even alone: a statement can hold its slot for seconds, and a second client must not wait
 * for one of them to end. On a few cores this costs a lone client little, since each statement already uses every
 * DuckDB thread.
 */

/** Whose statements share turns: a client's name, or any object (a request's budget). */
export type Owner = string | object;

/** Gives back a slot. */
export type ReleaseSlot = () => void;

interface Waiter {
  readonly grant: (release: ReleaseSlot) => void;
}

interface RequestState {
  readonly key: Owner;
  /** When the request first asked for a slot (a counter): its place in its client's line. */
  readonly arrival: number;
  readonly waiting: Waiter[];
  running: number;
}

interface ClientState {
  readonly key: Owner;
  /** When it was last granted a slot (a counter; -1: never): its place in the round robin between clients. */
  lastServed: number;
  /** Its requests with statements waiting or running (a request keeps its turn while it runs). */
  readonly requests: Map<Owner, RequestState>;
  running: number;
}

const waits = (r: RequestState) => r.waiting.length > 0;

/** The client among `clients` that may run a statement and was served longest ago (first arrived among equals). */
function longestWaiting(clients: Iterable<ClientState>, eligible: (c: ClientState) => boolean): ClientState | null {
  let best: ClientState | null = null;
  for (const c of clients) if (eligible(c) && (!best || c.lastServed < best.lastServed)) best = c;
  return best;
}

/** The request of `client` that arrived first among those with a statement waiting. */
function firstArrived(client: ClientState): RequestState | null {
  let best: RequestState | null = null;
  for (const r of client.requests.values()) if (waits(r) && (!best || r.arrival < best.arrival)) best = r;
  return best;
}

/** A fair admission queue (see the module comment). */
export class StatementQueue {
  readonly slots: number;
  readonly perClient: number;
  /** Clients with statements waiting or running, in order of arrival. */
  private readonly clients = new Map<Owner, ClientState>();
  private grants = 0;
  /**
   * Arrival of each request object (its first statement's): kept while the request lives, so that a statement it asks
   * for after its earlier ones ended (a lookup after a page) keeps the request's place instead of queueing as new.
   */
  private readonly arrivals = new WeakMap<object, number>();
  private arrivalsSoFar = 0;
  private runningNow = 0;
  private waitingNow = 0;

  constructor(slots: number, perClient = Math.max(1, Math.floor(slots / 2))) {
    this.slots = Math.max(1, Math.floor(slots));
    this.perClient = Math.min(this.slots, Math.max(1, Math.floor(perClient)));
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
   * Waits for a slot for a statement of `request` from `client` (the request itself when the client is not known);
   * resolves with the function that gives it back (call it exactly once). Rejects with `signal.reason` when the
   * signal aborts first (the statement leaves the queue).
   */
  acquire(client: Owner, signal?: AbortSignal, request: Owner = client): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const clientState = this.clientOf(client);
      const requestState = this.requestOf(clientState, request);
      const onAbort = () => {
        const at = requestState.waiting.indexOf(waiter);
        if (at < 0) return; // already granted: the caller stops it through its connection
        requestState.waiting.splice(at, 1);
        this.waitingNow--;
        this.forget(clientState, requestState);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      requestState.waiting.push(waiter);
      this.waitingNow++;
      this.dispatch();
    });
  }

  private clientOf(client: Owner): ClientState {
    let state = this.clients.get(client);
    if (!state) this.clients.set(client, (state = { key: client, requests: new Map(), running: 0, lastServed: -1 }));
    return state;
  }

  private requestOf(client: ClientState, request: Owner): RequestState {
    let state = client.requests.get(request);
    if (!state)
      client.requests.set(
        request,
        (state = { key: request, arrival: this.arrivalOf(request), waiting: [], running: 0 }),
      );
    return state;
  }

  private arrivalOf(request: Owner): number {
    if (typeof request !== 'object') return this.arrivalsSoFar++; // a name: its place while it has statements here
    let arrival = this.arrivals.get(request);
    if (arrival === undefined) this.arrivals.set(request, (arrival = this.arrivalsSoFar++));
    return arrival;
  }

  /** Drops a request, then a client, with nothing waiting or running. */
  private forget(client: ClientState, request: RequestState): void {
    if (request.waiting.length === 0 && request.running === 0) client.requests.delete(request.key);
    if (client.requests.size === 0) this.clients.delete(client.key);
  }

  /** Grants free slots, one statement at a time to the client whose turn it is, and within it its oldest request. */
  private dispatch(): void {
    while (this.runningNow < this.slots) {
      const client = longestWaiting(
        this.clients.values(),
        (c) => c.running < this.perClient && [...c.requests.values()].some(waits),
      );
      if (!client) return;
      const request = firstArrived(client)!;
      const waiter = request.waiting.shift()!;
      this.waitingNow--;
      client.lastServed = this.grants++;
      client.running++;
      request.running++;
      this.runningNow++;
      let released = false;
      waiter.grant(() => {
        if (released) return;
        released = true;
        client.running--;
        request.running--;
        this.runningNow--;
        this.forget(client, request);
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
