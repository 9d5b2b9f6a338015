/**
 * Connection direction on `Flow` (docs/semantics.md §4): `clientAddr`, `clientPort`, `serverAddr`, `serverPort` and
 * `directionMethod`. Computed in SQL only when selected: the first such field resolved in a request queues its record,
 * and one statement (`flows.direction`) orients every queued record of the page together, so a plain flows page runs
 * no extra query and a page that asks for direction runs exactly one.
 */
import { DIRECTION_METHODS } from '../../domain/connection-enums.ts';
import type { Row } from '../../store/query-runner.ts';
import { readFlowDirections, type FlowDirection } from '../../questions/handshake-reader.ts';
import { builder, type GraphQLContext } from '../builder.ts';
import { FlowRef } from './flow.ts';

/** How the client side of a flow was decided. */
export const DirectionMethodEnum = builder.enumType('DirectionMethod', {
  description:
    'How the client of a flow was decided: HANDSHAKE (the TCP tuple or its reverse had a SYN/SYN-ACK handshake starting ' +
    "within 30 minutes of the record's UTC hour), PORT (no handshake: the lower port is the server's; ephemeral ports " +
    'are >= 32768), UNKNOWN (equal or missing ports, or a record without addresses).',
  values: DIRECTION_METHODS,
});

interface Batch {
  readonly rows: Row[];
  readonly result: Promise<FlowDirection[]>;
}

/** Per request: the batch being collected, and each record's answer once asked. */
const pending = new WeakMap<GraphQLContext, Batch>();
const answers = new WeakMap<Row, Promise<FlowDirection>>();

function directionOf(ctx: GraphQLContext, row: Row): Promise<FlowDirection> {
  const known = answers.get(row);
  if (known) return known;
  let batch = pending.get(ctx);
  if (!batch) {
    const rows: Row[] = [];
    // Resolvers of every record of a page run before the next macrotask: collect them all, then run one statement.
    const result = new Promise<FlowDirection[]>((resolve, reject) => {
      setImmediate(() => {
        pending.delete(ctx);
        readFlowDirections(ctx.query, rows).then(resolve, reject);
      });
    });
    batch = { rows, result };
    pending.set(ctx, batch);
  }
  const index = batch.rows.push(row) - 1;
  const answer = batch.result.then((all) => all[index]!);
  answers.set(row, answer);
  return answer;
}

builder.objectFields(FlowRef, (t) => ({
  clientAddr: t.string({
    nullable: true,
    description:
      'Packet-level address of the side that opened the connection (see directionMethod); null without addresses.',
    resolve: async (row, _args, ctx) => (await directionOf(ctx, row)).clientAddr,
  }),
  clientPort: t.int({
    nullable: true,
    description: "The client's port.",
    resolve: async (row, _args, ctx) => (await directionOf(ctx, row)).clientPort,
  }),
  serverAddr: t.string({
    nullable: true,
    description: 'Packet-level address of the side that accepted the connection.',
    resolve: async (row, _args, ctx) => (await directionOf(ctx, row)).serverAddr,
  }),
  serverPort: t.int({
    nullable: true,
    description: "The server's (service) port.",
    resolve: async (row, _args, ctx) => (await directionOf(ctx, row)).serverPort,
  }),
  directionMethod: t.field({
    type: DirectionMethodEnum,
    description: 'How clientAddr/serverAddr were decided.',
    resolve: async (row, _args, ctx) => (await directionOf(ctx, row)).method,
  }),
}));
