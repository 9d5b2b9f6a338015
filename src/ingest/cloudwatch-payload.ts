/**
 * CloudWatch Logs subscription payloads (flow-logs.md §6): a (gzipped) JSON envelope
 * `{messageType, owner, logGroup, logStream, subscriptionFilters, logEvents: [{id, timestamp, message}]}`, whose
 * messages are header-less records in the flow log's format. CONTROL_MESSAGE payloads (CloudWatch's reachability
 * checks) carry no records.
 */
import { FlowFormatError, parseLine, type HeaderLayout } from './line-parser.ts';
import type { FlowItem } from './line-parser.ts';

/** One log event of a subscription payload. */
export interface CloudWatchEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** A validated subscription payload. */
export interface CloudWatchPayload {
  readonly messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  readonly owner: string | undefined;
  readonly logGroup: string | undefined;
  readonly logStream: string | undefined;
  readonly logEvents: readonly CloudWatchEvent[];
}

/** Parses and checks the JSON envelope; throws FlowFormatError naming `name` and what is wrong. */
export function parseCloudWatchPayload(text: string, name: string): CloudWatchPayload {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FlowFormatError(`${name}: not a flow log: invalid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FlowFormatError(`${name}: not a flow log: JSON that is not a CloudWatch Logs payload object`);
  }
  const o = json as Record<string, unknown>;
  const type = o.messageType;
  if (type !== 'DATA_MESSAGE' && type !== 'CONTROL_MESSAGE') {
    const found = type === undefined ? 'no messageType' : `messageType ${JSON.stringify(type)}`;
    throw new FlowFormatError(
      `${name}: not a flow log: JSON with ${found}; expected a CloudWatch Logs payload (DATA_MESSAGE or CONTROL_MESSAGE with logEvents)`,
    );
  }
  if (!Array.isArray(o.logEvents)) {
    throw new FlowFormatError(`${name}: CloudWatch Logs payload without a logEvents array`);
  }
  const logEvents = o.logEvents.map((e: unknown, i): CloudWatchEvent => {
    const ev = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    if (typeof ev.message !== 'string') {
      throw new FlowFormatError(`${name}: logEvents[${i}] has no string message`);
    }
    return { id: String(ev.id ?? ''), timestamp: Number(ev.timestamp ?? 0), message: ev.message };
  });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { messageType: type, owner: str(o.owner), logGroup: str(o.logGroup), logStream: str(o.logStream), logEvents };
}

/** Parses each event's message with `layout`; line numbers are the event's index in logEvents + 1. */
export function cloudWatchItems(payload: CloudWatchPayload, layout: HeaderLayout): FlowItem[] {
  if (payload.messageType === 'CONTROL_MESSAGE') return [];
  const items: FlowItem[] = [];
  payload.logEvents.forEach((event, i) => {
    const r = parseLine(layout, event.message);
    if (r.ok) items.push({ kind: 'record', line: i + 1, record: r.record });
    else
      items.push({
        kind: 'reject',
        line: i + 1,
        reason: r.reason,
        ...(r.field ? { field: r.field } : {}),
        text: event.message,
      });
  });
  return items;
}
