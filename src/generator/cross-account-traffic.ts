/**
 * Traffic between accounts and regions (topology.ts `crossAccount`): TCP connections between instances of two
 * accounts, or of two regions of one account, each end logging both directions in its own flow log and format
 * (docs/semantics.md §10). They are scheduled at a
 * fixed period rather than drawn in the random mix, with their own random stream: the mix's draws stay the same, and
 * every call is made at least once a day whatever the seed.
 */
import { tcpConnection, type Conversation, type TrafficContext } from './tcp-conversation.ts';
import type { CrossAccountCall } from './topology.ts';

/** egress traffic-path of VPC peering (every link goes through a peering connection): intra-region, inter-region. */
const PEERING_PATH = 4;
const INTER_REGION_PEERING_PATH = 5;

/** Hands out the cross-account calls in turn, one TCP connection each. */
export class CrossAccountTraffic {
  private readonly ctx: TrafficContext;
  private readonly calls: readonly CrossAccountCall[];
  private readonly rangeEnd: number;
  private turn = 0;

  /** `ctx.rng` should be a stream of its own (see above). */
  constructor(ctx: TrafficContext, calls: readonly CrossAccountCall[], rangeEnd: number) {
    this.ctx = ctx;
    this.calls = calls;
    this.rangeEnd = rangeEnd;
  }

  /** The next call's connection starting in the minute at `t`, or null when there is no call or no time left. */
  next(t: number): Conversation | null {
    if (this.calls.length === 0) return null;
    const call = this.calls[this.turn++ % this.calls.length]!;
    const end = Math.min(call.client.aliveTo, call.server.aliveTo, this.rangeEnd);
    const windows = Math.min(this.ctx.rng.range(1, 4), Math.floor((end - t) / 60));
    if (windows < 1) return null;
    return tcpConnection(
      this.ctx,
      {
        client: call.client.iface,
        server: call.server.iface,
        path: call.client.vpc.region === call.server.vpc.region ? PEERING_PATH : INTER_REGION_PEERING_PATH,
      },
      call.port,
      { windows, reset: false, straddle: false },
      this.ctx.truth.crossAccountPair(call),
    );
  }
}
