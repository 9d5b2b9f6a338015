/**
 * `scans(filter, minPorts, minHosts, first)`: sources whose failed handshakes (REJECTED, UNANSWERED or RESET) reached
 * many distinct ports or hosts in the window, most failed targets first (scan-query.ts). No SQL here.
 */
import { checkCount } from '../../domain/aggregate-enums.ts';
import { readScans, type Scan } from '../../questions/handshake-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointKindEnum } from './traffic-edge-endpoint.ts';

/** One scanning source. */
export const ScanRef = builder.objectRef<Scan>('Scan').implement({
  description: 'A source that sent SYNs to many ports or hosts without getting connections.',
  fields: (t) => ({
    sourceAddr: t.exposeString('sourceAddr'),
    sourceKind: t.field({ type: EndpointKindEnum, resolve: (s) => s.sourceKind }),
    sourceInstanceId: t.exposeString('sourceInstanceId', { nullable: true }),
    syns: t.field({ type: 'BigInt', description: 'Handshake attempts (every state).', resolve: (s) => s.syns }),
    failed: t.field({ type: 'BigInt', description: 'Attempts not ESTABLISHED.', resolve: (s) => s.failed }),
    rejected: t.field({ type: 'BigInt', resolve: (s) => s.rejected }),
    unanswered: t.field({ type: 'BigInt', resolve: (s) => s.unanswered }),
    failedPorts: t.exposeInt('failedPorts', { description: 'Distinct server ports of failed attempts.' }),
    failedHosts: t.exposeInt('failedHosts', { description: 'Distinct server addresses of failed attempts.' }),
    failedTargets: t.exposeInt('failedTargets', { description: 'Distinct (address, port) of failed attempts.' }),
    firstSeen: t.field({ type: 'DateTime', resolve: (s) => s.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', resolve: (s) => s.lastSeen }),
  }),
});

/** The scans list and whether it was cut at `first`. */
const ScanListRef = builder.objectRef<{ rows: readonly Scan[]; truncated: boolean }>('ScanList').implement({
  description: 'Scanning sources, most distinct failed targets first.',
  fields: (t) => ({
    nodes: t.field({ type: [ScanRef], resolve: (p) => [...p.rows] }),
    truncated: t.boolean({
      description: 'More sources passed the thresholds than `first`.',
      resolve: (p) => p.truncated,
    }),
  }),
});

builder.queryField('scans', (t) =>
  t.field({
    type: ScanListRef,
    description:
      'Sources whose failed TCP handshakes in the window reached at least `minPorts` distinct ports or `minHosts` ' +
      'distinct hosts. The filter applies to connections as in `handshakes`.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      minPorts: t.arg.int({ required: true, defaultValue: 10, description: '1 to 65536.' }),
      minHosts: t.arg.int({ required: true, defaultValue: 10, description: '1 to 1000000.' }),
      first: t.arg.int({
        required: true,
        defaultValue: 20,
        description: 'At most this many sources (1 to the page maximum).',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const minPorts = checkCount('minPorts', args.minPorts, 1, 65_536);
      const minHosts = checkCount('minHosts', args.minHosts, 1, 1_000_000);
      const limit = checkCount('first', args.first, 1, ctx.limits.maxPageSize);
      const filter = await resolveFlowFilter(ctx, args.filter);
      return readScans(ctx.query, { filter, minPorts, minHosts, limit });
    },
  }),
);
