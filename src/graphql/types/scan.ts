/**
 * `scans(filter, minPorts, minHosts, first)`: sources whose failed handshakes (REJECTED, UNANSWERED or RESET), or
 * rejected records where the records carry no tcp-flags, reached many distinct ports or hosts in the window, most
 * failed targets first (scan-query.ts). No SQL here.
 */
import { SCAN_EVIDENCE } from '../../domain/connection-enums.ts';
import { checkCount } from '../../domain/aggregate-enums.ts';
import { readScans, type Scan } from '../../questions/handshake-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointKindEnum } from './traffic-edge-endpoint.ts';

/** What a scan row was judged on. */
const ScanEvidenceEnum = builder.enumType('ScanEvidence', {
  description:
    'What a scan was found from: FAILED_HANDSHAKES (TCP handshakes paired from tcp-flags that did not end ' +
    'ESTABLISHED: REJECTED, UNANSWERED, RESET) or REJECTED_RECORDS (rejected TCP records without tcp-flags, as the ' +
    'v2 default format logs them, where no handshake can be paired; a reply, whose source port is below its ' +
    'destination port, is not counted).',
  values: SCAN_EVIDENCE,
});

const ON_HANDSHAKES = ' Null when evidence is REJECTED_RECORDS.';

/** One scanning source. */
export const ScanRef = builder.objectRef<Scan>('Scan').implement({
  description:
    'A source that reached many ports or hosts without getting connections, listed once: on its failed handshakes ' +
    'when they pass the thresholds, else on its rejected records without tcp-flags. The failed* counts are of the ' +
    'evidence named in `evidence`.',
  fields: (t) => ({
    sourceAddr: t.exposeString('sourceAddr'),
    evidence: t.field({
      type: ScanEvidenceEnum,
      description: 'What this row was judged on; its counts are of this evidence only.',
      resolve: (s) => s.evidence,
    }),
    sourceKind: t.field({
      type: EndpointKindEnum,
      nullable: true,
      description: "The handshakes' client end as resolved (semantics.md §5). Null when evidence is REJECTED_RECORDS.",
      resolve: (s) => s.sourceKind,
    }),
    sourceInstanceId: t.exposeString('sourceInstanceId', { nullable: true }),
    syns: t.field({
      type: 'BigInt',
      nullable: true,
      description: `Handshake attempts (every state).${ON_HANDSHAKES}`,
      resolve: (s) => s.syns,
    }),
    failed: t.field({
      type: 'BigInt',
      nullable: true,
      description: `Attempts not ESTABLISHED.${ON_HANDSHAKES}`,
      resolve: (s) => s.failed,
    }),
    rejected: t.field({
      type: 'BigInt',
      nullable: true,
      description: `Attempts REJECTED.${ON_HANDSHAKES}`,
      resolve: (s) => s.rejected,
    }),
    unanswered: t.field({
      type: 'BigInt',
      nullable: true,
      description: `Attempts UNANSWERED.${ON_HANDSHAKES}`,
      resolve: (s) => s.unanswered,
    }),
    rejectedRecords: t.field({
      type: 'BigInt',
      nullable: true,
      description:
        'Rejected TCP records without tcp-flags from this source (replies excluded). Null when evidence is ' +
        'FAILED_HANDSHAKES.',
      resolve: (s) => s.rejectedRecords,
    }),
    failedPorts: t.exposeInt('failedPorts', {
      description: 'Distinct server ports of failed handshakes, or distinct destination ports of rejected records.',
    }),
    failedHosts: t.exposeInt('failedHosts', {
      description:
        'Distinct server addresses of failed handshakes, or distinct destination addresses of rejected records.',
    }),
    failedTargets: t.exposeInt('failedTargets', {
      description: 'Distinct (address, port) of failed handshakes, or of rejected records.',
    }),
    firstSeen: t.field({
      type: 'DateTime',
      description: 'Start of the first handshake (any state), or of the first rejected record.',
      resolve: (s) => s.firstSeen,
    }),
    lastSeen: t.field({
      type: 'DateTime',
      description: 'Start of the last handshake (any state), or of the last rejected record.',
      resolve: (s) => s.lastSeen,
    }),
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
      'distinct hosts; where records carry no tcp-flags (the v2 default format), sources whose rejected TCP records ' +
      'did (`evidence` says which; a source is listed once, on its handshakes when they pass). The filter applies to ' +
      'connections as in `handshakes` (on records: `srcAddr`/`srcPort` the source, `dstAddr` and every port field ' +
      'but `srcPort` the destination) and refuses the same fields.',
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
