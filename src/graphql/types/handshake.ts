/**
 * `handshakes(filter, states, first, after)`: TCP handshakes (docs/semantics.md §3) as a Relay connection, oldest
 * first, paged by keyset (start, client, server). Each connection between two monitored interfaces is one handshake
 * with both observation points in `observedAt`. The resolver validates and asks the handshake reader; no SQL here.
 */
import { checkCount } from '../../domain/aggregate-enums.ts';
import { HANDSHAKE_STATES, type HandshakeKey } from '../../domain/connection-enums.ts';
import { InputError } from '../../domain/input-error.ts';
import { handshakeKeyOf, readHandshakes, type Handshake } from '../../questions/handshake-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointRef } from './traffic-edge-endpoint.ts';

/** Handshake states. */
export const HandshakeStateEnum = builder.enumType('HandshakeState', {
  description:
    'ESTABLISHED: SYN answered by SYN-ACK. REJECTED: the SYN record was REJECTed. UNANSWERED: SYN accepted, no SYN-ACK ' +
    'within one aggregation interval (600 s): a closed port, a drop further on, or a scan. RESET: RST seen on either side.',
  values: HANDSHAKE_STATES,
});

/** The Handshake object type (the handshake question's typed value). */
export const HandshakeRef = builder.objectRef<Handshake>('Handshake').implement({
  description: 'One TCP connection attempt: a SYN record paired with the SYN-ACK of the reversed tuple, seen once.',
  fields: (t) => ({
    clientAddr: t.exposeString('clientAddr', { description: 'Who sent the SYN (packet-level address).' }),
    clientPort: t.exposeInt('clientPort'),
    serverAddr: t.exposeString('serverAddr', { description: 'Who was asked (packet-level address).' }),
    serverPort: t.exposeInt('serverPort'),
    protocol: t.exposeInt('protocol', { description: 'Always 6 (TCP).' }),
    state: t.field({ type: HandshakeStateEnum, resolve: (h) => h.state }),
    start: t.field({ type: 'DateTime', description: 'Start of the first SYN record.', resolve: (h) => h.start }),
    end: t.field({
      type: 'DateTime',
      description: 'End of the last record of the connection seen within the pairing window.',
      resolve: (h) => h.end,
    }),
    closed: t.exposeBoolean('closed', { description: 'A FIN was seen (either side) in the window.' }),
    synAckSeen: t.exposeBoolean('synAckSeen'),
    synRecords: t.exposeInt('synRecords', { description: 'SYN records of this attempt, at every observation point.' }),
    observedAt: t.stringList({
      description: 'Interfaces that logged the SYN (both ends when both are monitored), sorted.',
      resolve: (h) => [...h.observedAt],
    }),
    client: t.field({ type: EndpointRef, resolve: (h) => h.client }),
    server: t.field({ type: EndpointRef, resolve: (h) => h.server }),
  }),
});

/** The handshakes connection type. */
export const HandshakeConnectionRef = builder.connectionObject({
  type: HandshakeRef,
  name: 'HandshakeConnection',
  description: 'A page of handshakes, oldest first. Cursors are opaque and valid with the same filter and states.',
});

const CURSOR_EXPECTED = 'a cursor returned by a previous page of handshakes';
/** 9999-12-31T23:59:59.999Z: the last time a cursor can name. */
const MAX_CURSOR_MS = 253_402_300_799_999;

/** Opaque cursor of a handshake key. */
export function encodeHandshakeCursor(k: HandshakeKey): string {
  const parts = ['h1', k.startTime.getTime(), k.clientAddr, k.clientPort, k.serverAddr, k.serverPort];
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The key of a cursor; InputError(`after`) when it is not one of ours. */
export function decodeHandshakeCursor(cursor: string): HandshakeKey {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InputError('after', CURSOR_EXPECTED, cursor);
  }
  if (!Array.isArray(parts) || parts.length !== 6 || parts[0] !== 'h1')
    throw new InputError('after', CURSOR_EXPECTED, cursor);
  const [, ms, clientAddr, clientPort, serverAddr, serverPort] = parts as unknown[];
  // Bounded like the values a page can hold: a forged time beyond year 9999 would be an invalid Date, and a huge
  // address string would travel into SQL parameters.
  const port = (p: unknown) => Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65_535;
  const address = (a: unknown) => typeof a === 'string' && a.length <= 45;
  const ok =
    Number.isSafeInteger(ms) &&
    (ms as number) >= 0 &&
    (ms as number) <= MAX_CURSOR_MS &&
    address(clientAddr) &&
    address(serverAddr) &&
    port(clientPort) &&
    port(serverPort);
  if (!ok) throw new InputError('after', CURSOR_EXPECTED, cursor);
  return {
    startTime: new Date(ms as number),
    clientAddr: clientAddr as string,
    clientPort: clientPort as number,
    serverAddr: serverAddr as string,
    serverPort: serverPort as number,
  };
}

builder.queryField('handshakes', (t) =>
  t.field({
    type: HandshakeConnectionRef,
    description:
      'TCP handshakes starting in the filter window, oldest first. Filter fields apply to connections: ids and `addr` ' +
      'match either end, `srcAddr` the client, `dstAddr` the server, `port`/`dstPort` the server port, `srcPort` the ' +
      'client port, each with its `not` form; fields that describe single records (actions, tcpFlags, ...) are ' +
      'refused with BAD_USER_INPUT.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      states: t.arg({ type: [HandshakeStateEnum], description: 'Only these states (all when omitted).' }),
      first: t.arg.int({ description: 'Page size (default and maximum set by the server, 100 and 1000 by default).' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = checkCount('first', args.first ?? ctx.limits.defaultPageSize, 1, ctx.limits.maxPageSize);
      if (args.states && args.states.length === 0) throw new InputError('states', 'at least one state, or omit states');
      const after = args.after ? decodeHandshakeCursor(args.after) : null;
      const filter = await resolveFlowFilter(ctx, args.filter);
      const page = await readHandshakes(ctx.query, { filter, states: args.states ?? null, first, after });
      const edges = page.rows.map((node) => ({ cursor: encodeHandshakeCursor(handshakeKeyOf(node)), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: false,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
);
