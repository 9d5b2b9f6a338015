/**
 * Conversations with one monitored end or a middlebox: through a NAT gateway to the internet, to an AWS service,
 * and the port scan. What each interface logs follows flow-logs.md §4.11 (NAT) and §4.6/§4.7 (paths, services).
 */
import type { Leg, LogDetails } from './record-logger.ts';
import { ephemeralPort, pathDetails, windowTimes, type Conversation, type TrafficContext } from './tcp-conversation.ts';
import type { Instance } from './topology.ts';

const tcpFlags = (k: number, w: number, synAck: boolean): number =>
  (k === 0 ? (synAck ? 18 : 2) : 0) | (k === w - 1 ? 1 : 0);

/** tcp-flags of a NAT leg: TCP's, `-` for UDP. */
const natFlags = (protocol: number, k: number, w: number, synAck: boolean): number | '-' =>
  protocol === 6 ? tcpFlags(k, w, synAck) : '-';

/**
 * An inside instance's connection through its VPC's NAT gateway to `externalIp`. Per window, 6 records:
 *   instance ENI  egress  inst -> ext                         (path 1: through a resource in the VPC)
 *   NAT ENI       ingress inst -> natIp   pkt-dstaddr ext     (the NAT's address substitutes the real destination)
 *   NAT ENI       egress  natIp:natPort -> ext                (path 2: internet gateway)
 *   NAT ENI       ingress ext -> natIp:natPort
 *   NAT ENI       egress  natIp -> inst   pkt-srcaddr ext     (path 1)
 *   instance ENI  ingress ext -> inst
 * Bytes are attributed once to the instance (bytesOut/bytesIn); naiveBytes sums all 6 records.
 */
export function natConversation(
  ctx: TrafficContext,
  inst: Instance,
  externalIp: string,
  protocol: 6 | 17,
  port: number,
  windows: number,
): Conversation {
  const { rng, logger, truth } = ctx;
  const nat = inst.vpc.nat;
  const entry = truth.natPath(inst, nat, externalIp, protocol, port);
  const sport = ephemeralPort(rng);
  const natPort = rng.range(1024, 65535);
  const toNat: LogDetails = { dstaddr: nat.ip };
  const fromNat: LogDetails = { srcaddr: nat.ip, path: 1 };
  return {
    windows,
    records: 6 * windows,
    step(k, minuteStart) {
      const [start, end] = windowTimes(rng, k, windows, minuteStart);
      const outPackets = rng.range(2, 30);
      const inPackets = protocol === 6 ? rng.range(2, 80) : outPackets;
      const out: Leg = {
        src: inst.iface.ip,
        dst: externalIp,
        sport,
        dport: port,
        protocol,
        packets: outPackets,
        bytes: outPackets * rng.range(52, 700),
        start,
        end,
        flags: natFlags(protocol, k, windows, false),
      };
      const back: Leg = {
        src: externalIp,
        dst: inst.iface.ip,
        sport: port,
        dport: sport,
        protocol,
        packets: inPackets,
        bytes: inPackets * rng.range(52, 1400),
        start,
        end,
        flags: natFlags(protocol, k, windows, true),
      };
      const outside: Leg = { ...out, src: nat.ip, sport: natPort };
      const outsideBack: Leg = { ...back, dst: nat.ip, dport: natPort };
      logger.log(inst.iface, 'egress', out, 'ACCEPT', entry, pathDetails(1));
      logger.log(nat, 'ingress', out, 'ACCEPT', entry, toNat);
      logger.log(nat, 'egress', outside, 'ACCEPT', entry, pathDetails(2));
      logger.log(nat, 'ingress', outsideBack, 'ACCEPT', entry);
      logger.log(nat, 'egress', back, 'ACCEPT', entry, fromNat);
      logger.log(inst.iface, 'ingress', back, 'ACCEPT', entry);
      entry.bytesOut += out.bytes;
      entry.packetsOut += out.packets;
      entry.bytesIn += back.bytes;
      entry.packetsIn += back.packets;
      if (k === 0) {
        entry.connections++;
        if (protocol === 6) truth.tcp.handshakes++;
      }
    },
  };
}

/** The egress traffic-path an instance's packets to `service` take: gateway endpoint (7) or IGW (8) on Nitro, else 2. */
export function servicePath(inst: Instance, service: string): number {
  if (!inst.nitro) return 2;
  return service === 'DYNAMODB' || inst.vpc.flowLog.formatName !== 'v2-default' ? 7 : 8;
}

/** HTTPS from an instance to an AWS service address: only the instance's interface logs it (2 records a window). */
export function serviceConversation(
  ctx: TrafficContext,
  inst: Instance,
  service: 'S3' | 'DYNAMODB',
  windows: number,
): Conversation {
  const { rng, logger, truth } = ctx;
  const path = servicePath(inst, service);
  const entry = truth.awsService(inst, service, path);
  const ip =
    service === 'S3' ? `52.216.${rng.int(256)}.${rng.range(1, 254)}` : `52.94.${rng.int(8)}.${rng.range(1, 254)}`;
  const sport = ephemeralPort(rng);
  const naive = { naiveBytes: 0 };
  const toService: LogDetails = { dstService: service, path };
  const fromService: LogDetails = { srcService: service };
  return {
    windows,
    records: 2 * windows,
    step(k, minuteStart) {
      const [start, end] = windowTimes(rng, k, windows, minuteStart);
      const p1 = rng.range(2, 200);
      const p2 = rng.range(2, 200);
      const out: Leg = {
        src: inst.iface.ip,
        dst: ip,
        sport,
        dport: 443,
        protocol: 6,
        packets: p1,
        bytes: p1 * rng.range(52, 1400),
        start,
        end,
        flags: tcpFlags(k, windows, false),
      };
      const back: Leg = {
        src: ip,
        dst: inst.iface.ip,
        sport: 443,
        dport: sport,
        protocol: 6,
        packets: p2,
        bytes: p2 * rng.range(52, 1400),
        start,
        end,
        flags: tcpFlags(k, windows, true),
      };
      logger.log(inst.iface, 'egress', out, 'ACCEPT', naive, toService);
      logger.log(inst.iface, 'ingress', back, 'ACCEPT', naive, fromService);
      entry.bytesOut += out.bytes;
      entry.bytesIn += back.bytes;
      if (k === 0) {
        entry.flows++;
        truth.tcp.handshakes++;
      }
    },
  };
}

/**
 * A SYN scan from `scanner` of `targets` x `ports` (in that order, cut at `probes`), spread over `windows` minutes:
 * each probe is a 44-byte SYN, ACCEPT at the scanner (no reply) and REJECT at the target (2 records).
 */
export function portScan(
  ctx: TrafficContext,
  scanner: Instance,
  targets: readonly Instance[],
  ports: readonly number[],
  probes: number,
  windows: number,
): Conversation {
  const { rng, logger, truth } = ctx;
  const sport = ephemeralPort(rng);
  const perWindow = Math.ceil(probes / windows);
  const naive = { naiveBytes: 0 };
  let done = 0;
  return {
    windows,
    records: 2 * probes,
    step(_k, minuteStart) {
      for (let i = 0; i < perWindow && done < probes; i++, done++) {
        const target = targets[done % targets.length]!;
        const port = ports[Math.floor(done / targets.length)]!;
        const start = minuteStart + Math.floor((i * 60) / perWindow);
        const leg: Leg = {
          src: scanner.iface.ip,
          dst: target.iface.ip,
          sport,
          dport: port,
          protocol: 6,
          packets: 1,
          bytes: 44,
          start,
          end: start,
          flags: 2,
        };
        logger.log(scanner.iface, 'egress', leg, 'ACCEPT', naive, pathDetails(1));
        logger.log(target.iface, 'ingress', leg, 'REJECT', naive);
        truth.probe(target, port, start, start);
      }
    },
  };
}
