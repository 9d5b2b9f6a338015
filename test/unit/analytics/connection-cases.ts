/**
 * The cases of docs/semantics.md §7 as hand-built records, each with the answer a reader can check on paper
 * (expected values are asserted in connection-rules.test.ts, next to the case they belong to).
 */
import { rec, t, type FixtureRecord } from '../../helpers/analytics-fixture.ts';

const srv = {
  interface_id: 'eni-srv',
  instance_id: 'i-srv',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-a',
  az_id: 'use1-az1',
};

/** AWS's SSH example: a laptop (198.51.100.7) logs in to an instance (10.0.0.5); both records at the instance. */
export const SSH: FixtureRecord[] = [
  rec({
    ...srv,
    srcaddr: '198.51.100.7',
    dstaddr: '10.0.0.5',
    srcport: 62897,
    dstport: 22,
    tcp_flags: 2,
    flow_direction: 'ingress',
    bytes: 4000,
    packets: 40,
    start: t('2024-03-01T10:00:00'),
  }),
  rec({
    ...srv,
    srcaddr: '10.0.0.5',
    dstaddr: '198.51.100.7',
    srcport: 22,
    dstport: 62897,
    tcp_flags: 18,
    flow_direction: 'egress',
    bytes: 8000,
    packets: 50,
    start: t('2024-03-01T10:00:00'),
  }),
];

const e62 = {
  interface_id: 'eni-62',
  instance_id: 'i-62',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-a',
  az_id: 'use1-az1',
  version: 3,
};
const c2s = { srcaddr: '52.213.180.42', dstaddr: '10.0.0.62', dstport: 5001 };
const s2c = { srcaddr: '10.0.0.62', dstaddr: '52.213.180.42', srcport: 5001 };
/**
 * AWS's TCP flag sequence (v3 format, so no flow-direction: direction is inferred): connection 43416 shows 2, 18,
 * then 0 in the next window and 1 (FIN) in the one after; the short connection 43418 shows 3 and 19 in one window.
 */
export const FLAG_SEQUENCE: FixtureRecord[] = [
  rec({ ...e62, ...c2s, srcport: 43416, tcp_flags: 2, bytes: 568, packets: 8, start: t('2024-03-01T10:00:00') }),
  rec({ ...e62, ...s2c, dstport: 43416, tcp_flags: 18, bytes: 376, packets: 7, start: t('2024-03-01T10:00:00') }),
  rec({ ...e62, ...c2s, srcport: 43416, tcp_flags: 0, bytes: 100701, packets: 70, start: t('2024-03-01T10:01:00') }),
  rec({ ...e62, ...s2c, dstport: 43416, tcp_flags: 0, bytes: 869, packets: 68, start: t('2024-03-01T10:01:00') }),
  rec({ ...e62, ...c2s, srcport: 43416, tcp_flags: 1, bytes: 52, packets: 1, start: t('2024-03-01T10:02:00') }),
  rec({ ...e62, ...s2c, dstport: 43416, tcp_flags: 1, bytes: 40, packets: 1, start: t('2024-03-01T10:02:00') }),
  rec({ ...e62, ...c2s, srcport: 43418, tcp_flags: 3, bytes: 300, packets: 5, start: t('2024-03-01T10:05:00') }),
  rec({ ...e62, ...s2c, dstport: 43418, tcp_flags: 19, bytes: 200, packets: 4, start: t('2024-03-01T10:05:00') }),
];

const ea = { interface_id: 'eni-a', instance_id: 'i-a', vpc_id: 'vpc-1', subnet_id: 'subnet-a', az_id: 'use1-az1' };
const eb = { interface_id: 'eni-b', instance_id: 'i-b', vpc_id: 'vpc-1', subnet_id: 'subnet-b', az_id: 'use1-az2' };
const ab = { srcaddr: '10.0.1.10', dstaddr: '10.0.2.20', srcport: 51000, dstport: 5432 };
const ba = { srcaddr: '10.0.2.20', dstaddr: '10.0.1.10', srcport: 5432, dstport: 51000 };
const w1 = t('2024-03-01T10:00:00');
const w2 = t('2024-03-01T10:01:00');
/** Instance A (AZ 1) -> instance B:5432 (AZ 2), every record logged at both interfaces (egress at A, ingress at B...). */
export const INSTANCE_TO_INSTANCE: FixtureRecord[] = [
  rec({ ...ea, ...ab, flow_direction: 'egress', tcp_flags: 2, bytes: 60, packets: 1, start: w1 }),
  rec({ ...ea, ...ba, flow_direction: 'ingress', tcp_flags: 18, bytes: 60, packets: 1, start: w1 }),
  rec({ ...ea, ...ab, flow_direction: 'egress', tcp_flags: 0, bytes: 10000, packets: 10, start: w2 }),
  rec({ ...ea, ...ba, flow_direction: 'ingress', tcp_flags: 0, bytes: 50000, packets: 40, start: w2 }),
  // B's interface: the same packets, its windows start 20 s later.
  rec({ ...eb, ...ab, flow_direction: 'ingress', tcp_flags: 2, bytes: 60, packets: 1, start: w1 + 20 }),
  rec({ ...eb, ...ba, flow_direction: 'egress', tcp_flags: 18, bytes: 60, packets: 1, start: w1 + 20 }),
  rec({ ...eb, ...ab, flow_direction: 'ingress', tcp_flags: 0, bytes: 10000, packets: 10, start: w2 + 20 }),
  rec({ ...eb, ...ba, flow_direction: 'egress', tcp_flags: 0, bytes: 50000, packets: 40, start: w2 + 20 }),
];

const app = {
  interface_id: 'eni-app',
  instance_id: 'i-app',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-private',
  az_id: 'use1-az1',
};
const nat = {
  interface_id: 'eni-nat',
  instance_id: null,
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-public',
  az_id: 'use1-az1',
};
const n0 = t('2024-03-01T10:00:00');
/**
 * AWS's NAT gateway example: instance 10.0.1.5 -> NAT gateway 10.0.0.220 -> 203.0.113.5:443. The instance logs its
 * side; the NAT interface logs the inside leg (pkt-* = the true ends) and the outside leg (NAT IP, port 61000).
 */
export const NAT_PATH: FixtureRecord[] = [
  rec({
    ...app,
    srcaddr: '10.0.1.5',
    dstaddr: '203.0.113.5',
    srcport: 40001,
    dstport: 443,
    flow_direction: 'egress',
    traffic_path: 1,
    tcp_flags: 2,
    bytes: 1000,
    packets: 10,
    start: n0,
  }),
  rec({
    ...app,
    srcaddr: '203.0.113.5',
    dstaddr: '10.0.1.5',
    srcport: 443,
    dstport: 40001,
    flow_direction: 'ingress',
    tcp_flags: 18,
    bytes: 5000,
    packets: 20,
    start: n0,
  }),
  rec({
    ...nat,
    srcaddr: '10.0.1.5',
    dstaddr: '10.0.0.220',
    pkt_srcaddr: '10.0.1.5',
    pkt_dstaddr: '203.0.113.5',
    srcport: 40001,
    dstport: 443,
    flow_direction: 'ingress',
    tcp_flags: 2,
    bytes: 1000,
    packets: 10,
    start: n0 + 1,
  }),
  rec({
    ...nat,
    srcaddr: '10.0.0.220',
    dstaddr: '203.0.113.5',
    pkt_srcaddr: '10.0.0.220',
    pkt_dstaddr: '203.0.113.5',
    srcport: 61000,
    dstport: 443,
    flow_direction: 'egress',
    traffic_path: 8,
    tcp_flags: 2,
    bytes: 1000,
    packets: 10,
    start: n0 + 1,
  }),
  rec({
    ...nat,
    srcaddr: '203.0.113.5',
    dstaddr: '10.0.0.220',
    pkt_srcaddr: '203.0.113.5',
    pkt_dstaddr: '10.0.0.220',
    srcport: 443,
    dstport: 61000,
    flow_direction: 'ingress',
    tcp_flags: 18,
    bytes: 5000,
    packets: 20,
    start: n0 + 1,
  }),
  rec({
    ...nat,
    srcaddr: '10.0.0.220',
    dstaddr: '10.0.1.5',
    pkt_srcaddr: '203.0.113.5',
    pkt_dstaddr: '10.0.1.5',
    srcport: 443,
    dstport: 40001,
    flow_direction: 'egress',
    tcp_flags: 18,
    bytes: 5000,
    packets: 20,
    start: n0 + 1,
  }),
];

/** A SYN to RDP rejected by the security group at the instance. */
export const SYN_REJECTED: FixtureRecord[] = [
  rec({
    ...srv,
    srcaddr: '203.0.113.9',
    dstaddr: '10.0.0.5',
    srcport: 50000,
    dstport: 3389,
    flow_direction: 'ingress',
    tcp_flags: 2,
    action: 'REJECT',
    bytes: 40,
    packets: 1,
    start: t('2024-03-01T11:00:00'),
  }),
];

/** A SYN from the instance that nobody answers. */
export const SYN_UNANSWERED: FixtureRecord[] = [
  rec({
    ...srv,
    srcaddr: '10.0.0.5',
    dstaddr: '192.0.2.1',
    srcport: 45000,
    dstport: 8443,
    flow_direction: 'egress',
    tcp_flags: 2,
    bytes: 60,
    packets: 1,
    start: t('2024-03-01T11:00:00'),
  }),
];

/** SYN at 23:59:30 (partition 2024-03-01), SYN-ACK at 00:00:10 the next day (partition 2024-03-02). */
export const MIDNIGHT: FixtureRecord[] = [
  rec({
    ...srv,
    srcaddr: '198.51.100.8',
    dstaddr: '10.0.0.5',
    srcport: 60000,
    dstport: 443,
    flow_direction: 'ingress',
    tcp_flags: 2,
    bytes: 60,
    packets: 1,
    start: t('2024-03-01T23:59:30'),
    end: t('2024-03-01T23:59:50'),
  }),
  rec({
    ...srv,
    srcaddr: '10.0.0.5',
    dstaddr: '198.51.100.8',
    srcport: 443,
    dstport: 60000,
    flow_direction: 'egress',
    tcp_flags: 18,
    bytes: 60,
    packets: 1,
    start: t('2024-03-02T00:00:10'),
  }),
];

const cli = { interface_id: 'eni-c', instance_id: 'i-c', vpc_id: 'vpc-1', subnet_id: 'subnet-a', az_id: 'use1-az1' };
const old = {
  interface_id: 'eni-old',
  instance_id: 'i-old',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-b',
  az_id: 'use1-az2',
};
const neu = {
  interface_id: 'eni-new',
  instance_id: 'i-new',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-b',
  az_id: 'use1-az2',
};
const toWeb = {
  srcaddr: '10.0.1.1',
  dstaddr: '10.0.3.7',
  dstport: 80,
  flow_direction: 'egress',
  tcp_flags: 0,
  protocol: 6,
};
/**
 * 10.0.3.7 belongs to i-old in the morning and to i-new in the afternoon (its owners' own records show it); i-c calls
 * 10.0.3.7:80 at 08:05, 11:00 (nobody owns it then) and 14:05, logged only at i-c.
 */
export const ADDRESS_REUSE: FixtureRecord[] = [
  rec({
    ...old,
    srcaddr: '10.0.3.7',
    dstaddr: '10.0.9.9',
    srcport: 33000,
    dstport: 443,
    flow_direction: 'egress',
    tcp_flags: 0,
    start: t('2024-03-01T08:00:00'),
  }),
  rec({
    ...neu,
    srcaddr: '10.0.3.7',
    dstaddr: '10.0.9.9',
    srcport: 33001,
    dstport: 443,
    flow_direction: 'egress',
    tcp_flags: 0,
    start: t('2024-03-01T14:00:00'),
  }),
  rec({ ...cli, ...toWeb, srcport: 41000, bytes: 111, start: t('2024-03-01T08:05:00') }),
  rec({ ...cli, ...toWeb, srcport: 41001, bytes: 222, start: t('2024-03-01T11:00:00') }),
  rec({ ...cli, ...toWeb, srcport: 41002, bytes: 333, start: t('2024-03-01T14:05:00') }),
];
