/**
 * Conversations between two monitored interfaces (instance to instance, or instance to an interface endpoint): each
 * window logs the client-to-server leg as egress at the client and ingress at the server, and the reply leg the other
 * way round, so 4 records a window, 2 when only the SYN is out (docs/semantics.md §1, flow-logs.md §4.5):
 *
 *   TCP, w windows:  client->server flags 2 | 0 ... | 1        server->client 18 | 0 ... | 1
 *   short (w = 1):   3 and 19 (SYN+FIN, SYN-ACK+FIN in one window)
 *   reset:           the server's last window has RST (4) instead of FIN, and the client no FIN
 *   straddling:      window 0 has the SYN only (late in the minute); the SYN-ACK opens window 1
 *   rejected SYN:    1 window, client egress SYN ACCEPT, server ingress SYN REJECT, no reply
 *   unanswered SYN:  1 window, both ACCEPT, no reply
 *   UDP/ICMP:        1 window, request and response, flags `-`
 */
import type { Prng } from './prng.ts';
import type { Leg, LogDetails, RecordLogger } from './record-logger.ts';
import { addOnce, type TruthRecorder } from './truth-recorder.ts';
import type { PairTotals } from './ground-truth.ts';
import type { Iface } from './topology.ts';

/** A generated exchange: it knows in advance exactly how many records it will log. */
export interface Conversation {
  readonly records: number;
  readonly windows: number;
  /** Logs window k (0-based), whose 1-minute aggregation window starts at `minuteStart` (Unix seconds). */
  step(k: number, minuteStart: number): void;
}

/** What a conversation needs to log and count. */
export interface TrafficContext {
  readonly rng: Prng;
  readonly logger: RecordLogger;
  readonly truth: TruthRecorder;
}

/** The shape of a TCP connection. */
export interface TcpShape {
  readonly windows: number;
  readonly reset: boolean;
  /** SYN-ACK in the window after the SYN (needs windows >= 2). */
  readonly straddle: boolean;
}

/** Two monitored ends and the egress traffic-path each writes. */
export interface Ends {
  readonly client: Iface;
  readonly server: Iface;
  readonly path: number;
}

/** An ephemeral client port (Linux range). */
export const ephemeralPort = (rng: Prng): number => rng.range(32768, 60999);

/** [start, end] of window k of w inside the minute starting at `minuteStart`. */
export function windowTimes(rng: Prng, k: number, w: number, minuteStart: number): [number, number] {
  if (w === 1) {
    const start = minuteStart + rng.range(0, 50);
    return [start, start + rng.range(0, minuteStart + 59 - start)];
  }
  if (k === 0) {
    const start = minuteStart + rng.range(0, 50);
    return [start, minuteStart + rng.range(Math.max(57, start - minuteStart), 59)];
  }
  const start = minuteStart + rng.range(0, 2);
  return k === w - 1 ? [start, start + rng.range(0, 50)] : [start, minuteStart + rng.range(57, 59)];
}

// Shared details of egress records per traffic-path (1-8), rather than an object per record.
const PATH_DETAILS: readonly LogDetails[] = Array.from({ length: 9 }, (_v, path) => Object.freeze({ path }));

/** The LogDetails `{ path }`, shared. */
export const pathDetails = (path: number): LogDetails => PATH_DETAILS[path] ?? { path };

function logBoth(
  ctx: TrafficContext,
  ends: Ends,
  leg: Leg,
  toServer: boolean,
  serverAction: 'ACCEPT' | 'REJECT',
  totals: PairTotals,
): void {
  const from = toServer ? ends.client : ends.server;
  const to = toServer ? ends.server : ends.client;
  ctx.logger.log(from, 'egress', leg, 'ACCEPT', totals, pathDetails(ends.path));
  ctx.logger.log(to, 'ingress', leg, toServer ? serverAction : 'ACCEPT', totals);
}

/** A TCP connection between two monitored interfaces; counts one handshake (and a reset) in `totals`. */
export function tcpConnection(
  ctx: TrafficContext,
  ends: Ends,
  port: number,
  shape: TcpShape,
  totals: PairTotals,
  onStraddle?: (synStart: number, synAckStart: number) => void,
): Conversation {
  const { rng } = ctx;
  const w = shape.windows;
  const sport = ephemeralPort(rng);
  const lag = shape.straddle ? 1 : 0;
  let synStart = 0;
  return {
    windows: w,
    records: 4 * w - 2 * lag,
    step(k, minuteStart) {
      const last = k === w - 1;
      const end = last ? (shape.reset ? 0 : 1) : 0;
      const [start, stop] =
        lag && k === 0 ? [minuteStart + rng.range(55, 59), minuteStart + 59] : windowTimes(rng, k, w, minuteStart);
      const csFlags = (k === 0 ? 2 : 0) | end;
      const csPackets = lag && k === 0 ? rng.range(1, 2) : rng.range(2, 40);
      const cs: Leg = {
        src: ends.client.ip,
        dst: ends.server.ip,
        sport,
        dport: port,
        protocol: 6,
        packets: csPackets,
        bytes: csPackets * (lag && k === 0 ? 60 : rng.range(52, 600)),
        start,
        end: stop,
        flags: csFlags,
      };
      logBoth(ctx, ends, cs, true, 'ACCEPT', totals);
      if (lag && k === 0) {
        synStart = start;
        addOnce(totals, cs, null);
        return;
      }
      const synAck = k === lag;
      const scFlags = (synAck ? 18 : 0) | (last ? (shape.reset ? 4 : 1) : 0);
      const scPackets = rng.range(2, 60);
      const sc: Leg = {
        src: ends.server.ip,
        dst: ends.client.ip,
        sport: port,
        dport: sport,
        protocol: 6,
        packets: scPackets,
        bytes: scPackets * rng.range(52, 1400),
        start,
        end: stop,
        flags: scFlags,
      };
      logBoth(ctx, ends, sc, false, 'ACCEPT', totals);
      addOnce(totals, cs, sc);
      if (synAck) {
        totals.connections++;
        ctx.truth.tcp.handshakes++;
        if (lag) onStraddle?.(synStart, start);
      }
      if (last && shape.reset) {
        totals.resets++;
        ctx.truth.tcp.resets++;
      }
    },
  };
}

/** A SYN that gets no reply: REJECT at the server (a security group) or ACCEPT and silence (a host firewall). */
export function lonelySyn(
  ctx: TrafficContext,
  ends: Ends,
  port: number,
  rejected: boolean,
  totals: PairTotals,
): Conversation {
  const sport = ephemeralPort(ctx.rng);
  return {
    windows: 1,
    records: 2,
    step(_k, minuteStart) {
      const packets = ctx.rng.range(1, 3); // the client retransmits the SYN
      const start = minuteStart + ctx.rng.range(0, 40);
      const leg: Leg = {
        src: ends.client.ip,
        dst: ends.server.ip,
        sport,
        dport: port,
        protocol: 6,
        packets,
        bytes: packets * 60,
        start,
        end: start + (packets - 1) * 3,
        flags: 2,
      };
      logBoth(ctx, ends, leg, true, rejected ? 'REJECT' : 'ACCEPT', totals);
      addOnce(totals, leg, null);
      if (rejected) {
        totals.rejectedSyns++;
        ctx.truth.tcp.rejectedSyns++;
      } else {
        totals.unansweredSyns++;
        ctx.truth.tcp.unansweredSyns++;
      }
    },
  };
}

/** A UDP request/response (DNS-like) or an ICMP echo exchange (ports 0). */
export function datagramExchange(
  ctx: TrafficContext,
  ends: Ends,
  protocol: 17 | 1,
  port: number,
  totals: PairTotals,
): Conversation {
  const { rng } = ctx;
  return {
    windows: 1,
    records: 4,
    step(_k, minuteStart) {
      const [start, end] = windowTimes(rng, 0, 1, minuteStart);
      const sport = protocol === 1 ? 0 : ephemeralPort(rng);
      const packets = protocol === 1 ? rng.range(1, 4) : rng.range(1, 2);
      const ask: Leg = {
        src: ends.client.ip,
        dst: ends.server.ip,
        sport,
        dport: port,
        protocol,
        packets,
        bytes: packets * (protocol === 1 ? 84 : rng.range(60, 90)),
        start,
        end,
        flags: '-',
      };
      const answer: Leg = {
        ...ask,
        src: ends.server.ip,
        dst: ends.client.ip,
        sport: port,
        dport: sport,
        bytes: packets * (protocol === 1 ? 84 : rng.range(90, 300)),
      };
      logBoth(ctx, ends, ask, true, 'ACCEPT', totals);
      logBoth(ctx, ends, answer, false, 'ACCEPT', totals);
      addOnce(totals, ask, answer);
      totals.connections++;
    },
  };
}
