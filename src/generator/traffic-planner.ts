/**
 * Decides what happens in each minute: the random mix of conversations (internal TCP, DNS, ICMP, rejected and
 * unanswered SYNs, NAT, AWS services, an interface endpoint, NODATA/SKIPDATA) and the scheduled events (the port
 * scan, handshakes across midnight). Each conversation's record count is known when it is planned, which is how the
 * generator writes exactly the number of records asked for.
 */
import { natConversation, portScan, serviceConversation } from './edge-conversations.ts';
import type { Prng } from './prng.ts';
import {
  datagramExchange,
  lonelySyn,
  tcpConnection,
  type Conversation,
  type Ends,
  type TcpShape,
  type TrafficContext,
} from './tcp-conversation.ts';
import { HTTPS_HOSTS, NTP_HOSTS } from './internet-hosts.ts';
import type { Call, Instance, Topology } from './topology.ts';

const REJECTED_PORTS = [3389, 445, 1433];
const SILENT_PORTS = [9200, 8443];
const SCAN_PORTS = [
  21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 161, 389, 443, 445, 465, 587, 993, 995, 1433, 1521, 2049, 2375, 3306,
  3389, 5432, 5900, 5985, 6379, 8000, 8080, 8443, 9000, 9090, 9200, 11211, 27017,
];
const NOTHING: Conversation = { windows: 1, records: 0, step: () => undefined };

/** Plans conversations for one generation run. */
export class TrafficPlanner {
  private readonly ctx: TrafficContext;
  private readonly topo: Topology;
  private readonly rng: Prng;
  private readonly rangeEnd: number;
  private readonly bastions: Instance[];

  constructor(ctx: TrafficContext, topo: Topology, rangeEnd: number) {
    this.ctx = ctx;
    this.topo = topo;
    this.rng = ctx.rng;
    this.rangeEnd = rangeEnd;
    this.bastions = topo.instances.filter((i) => i.role === 'bastion');
  }

  /** A random conversation starting in the minute at `t` that logs at most `budget` records (>= 1). */
  spawn(t: number, budget: number): Conversation {
    const conv = this.choose(t);
    return conv.records > 0 && conv.records <= budget ? conv : this.status(t);
  }

  /** The port scan: `probes` SYNs from the scanner to hosts of its VPC, over 10 minutes from `t`. */
  scan(t: number, probes: number): Conversation {
    const scanner = this.topo.scanner;
    const hosts = scanner.vpc.instances.filter((i) => i !== scanner && this.alive(i, t, 10)).slice(0, 10);
    const ports = SCAN_PORTS.concat(
      Array.from({ length: 1024 }, (_v, p) => p + 1).filter((p) => !SCAN_PORTS.includes(p)),
    );
    return portScan(this.ctx, scanner, hosts, ports.slice(0, Math.ceil(probes / hosts.length)), probes, 10);
  }

  /** A handshake whose SYN is in the minute at `t` and whose SYN-ACK is in the next (across midnight when t is 23:59). */
  straddling(t: number): Conversation {
    for (let tries = 0; tries < 20; tries++) {
      const client = this.rng.pick(this.topo.instances);
      const call = this.call(client, t, 6);
      const w = Math.min(this.rng.range(2, 3), this.maxWindows(client, call?.server, t));
      if (call !== undefined && w >= 2) return this.tcp(client, call, t, { windows: w, reset: false, straddle: true });
    }
    return NOTHING;
  }

  private choose(t: number): Conversation {
    const { rng } = this;
    const client = rng.pick(this.topo.instances);
    if (!this.alive(client, t, 1)) return NOTHING;
    const r = rng.next();
    if (r < 0.42) return this.internalTcp(client, t);
    if (r < 0.6) return this.datagram(client, t, 17);
    if (r < 0.63) return this.datagram(rng.pick(this.bastions), t, 1);
    if (r < 0.66) return this.lonely(client, t, true);
    if (r < 0.68) return this.lonely(client, t, false);
    if (r < 0.77) return this.nat(client, t, 6);
    if (r < 0.79) return this.nat(client, t, 17);
    if (r < 0.87)
      return serviceConversation(
        this.ctx,
        client,
        rng.chance(0.7) ? 'S3' : 'DYNAMODB',
        this.windows(client, undefined, t, 1, 3),
      );
    if (r < 0.94) return this.endpoint(client, t);
    return this.status(t);
  }

  private internalTcp(client: Instance, t: number): Conversation {
    const call = this.call(client, t, 6);
    if (call === undefined) return this.datagram(client, t, 17);
    const s = this.rng.next();
    const [lo, hi] = s < 0.4 ? [1, 1] : s < 0.85 ? [2, 4] : s < 0.93 ? [1, 3] : [10, 60];
    const w = this.windows(client, call.server, t, lo, hi);
    const reset = s >= 0.85 && s < 0.93;
    // SYNs late in the last minute of a file window get their SYN-ACK in the next file.
    const straddle = !reset && w >= 2 && Math.floor(t / 60) % 5 === 4 && this.rng.chance(0.1);
    return this.tcp(client, call, t, { windows: w, reset, straddle });
  }

  private tcp(client: Instance, call: Call, t: number, shape: TcpShape): Conversation {
    const ends = this.ends(client, call.server);
    const totals = this.ctx.truth.pair(client, call.server, 6, call.port);
    return tcpConnection(this.ctx, ends, call.port, shape, totals, (syn, synAck) =>
      this.ctx.truth.straddle(client, call.server, call.port, syn, synAck),
    );
  }

  private datagram(client: Instance, t: number, protocol: 17 | 1): Conversation {
    const call = this.call(client, t, protocol);
    if (call === undefined) return NOTHING;
    return datagramExchange(
      this.ctx,
      this.ends(client, call.server),
      protocol,
      call.port,
      this.ctx.truth.pair(client, call.server, protocol, call.port),
    );
  }

  private lonely(client: Instance, t: number, rejected: boolean): Conversation {
    const call = this.call(client, t);
    if (call === undefined) return NOTHING;
    const port = this.rng.pick(rejected ? REJECTED_PORTS : SILENT_PORTS);
    return lonelySyn(
      this.ctx,
      this.ends(client, call.server),
      port,
      rejected,
      this.ctx.truth.pair(client, call.server, 6, port),
    );
  }

  private nat(client: Instance, t: number, protocol: 6 | 17): Conversation {
    // Each instance talks to a few fixed internet hosts, so the NAT ground truth stays small.
    const base = client.iface.ip.split('.').reduce((a, o) => a + Number(o), 0);
    const host =
      protocol === 6
        ? HTTPS_HOSTS[(base + this.rng.int(3)) % HTTPS_HOSTS.length]!
        : NTP_HOSTS[base % NTP_HOSTS.length]!;
    const w = protocol === 6 ? this.windows(client, undefined, t, 1, 4) : 1;
    return natConversation(this.ctx, client, host, protocol, protocol === 6 ? 443 : 123, w);
  }

  private endpoint(client: Instance, t: number): Conversation {
    const server = client.vpc.endpoint;
    const totals = this.ctx.truth.interfacePair(client, server, 6, 443);
    const w = this.windows(client, undefined, t, 1, 2);
    return tcpConnection(
      this.ctx,
      { client: client.iface, server, path: 1 },
      443,
      { windows: w, reset: false, straddle: false },
      totals,
    );
  }

  private status(t: number): Conversation {
    const inst = this.rng.pick(this.topo.instances);
    const status = this.rng.chance(0.25) ? 'SKIPDATA' : 'NODATA';
    const iface = this.alive(inst, t, 1) ? inst.iface : inst.vpc.nat;
    return {
      windows: 1,
      records: 1,
      step: (_k, minuteStart) => this.ctx.logger.status(iface, status, minuteStart, minuteStart + 59),
    };
  }

  private ends(client: Instance, server: Instance): Ends {
    return { client: client.iface, server: server.iface, path: client.vpc === server.vpc ? 1 : 4 };
  }

  private call(client: Instance, t: number, protocol?: number): Call | undefined {
    const calls = client.calls.filter(
      (c) => (protocol === undefined || c.protocol === protocol) && this.alive(c.server, t, 1),
    );
    return calls.length === 0 ? undefined : this.rng.pick(calls);
  }

  private alive(inst: Instance, t: number, windows: number): boolean {
    return inst.aliveFrom <= t && t + windows * 60 <= inst.aliveTo;
  }

  private maxWindows(client: Instance, server: Instance | undefined, t: number): number {
    const end = Math.min(client.aliveTo, server?.aliveTo ?? Infinity, this.rangeEnd);
    return Math.floor((end - t) / 60);
  }

  private windows(client: Instance, server: Instance | undefined, t: number, lo: number, hi: number): number {
    return Math.max(1, Math.min(this.rng.range(lo, hi), this.maxWindows(client, server, t)));
  }
}
