/**
 * S3 keys of generated objects, in AWS's layouts (flow-logs.md §5.1-5.2): the folder from the flow log's layout, the
 * file name `<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash8>.log.gz` (or `.log.parquet`), where the
 * timestamp is the start of the 5-minute window holding the records' `end`.
 */
import { hashString } from './prng.ts';
import type { FlowLogDef } from './topology.ts';

/** Length of a file window: AWS publishes a flow log's records every 5 minutes. */
export const FILE_WINDOW_SECONDS = 300;

const pad = (n: number): string => String(n).padStart(2, '0');

/** The key (relative to the output folder) of a flow log's object for the window starting at `windowStart`. */
export function buildObjectKey(flowLog: FlowLogDef, windowStart: number, seed: number): string {
  const t = new Date(windowStart * 1000);
  const [y, m, d, h, min] = [
    t.getUTCFullYear(),
    pad(t.getUTCMonth() + 1),
    pad(t.getUTCDate()),
    pad(t.getUTCHours()),
    pad(t.getUTCMinutes()),
  ];
  const { accountId: a, region: r } = flowLog;
  const folder =
    flowLog.layout === 'default'
      ? `AWSLogs/${a}/vpcflowlogs/${r}/${y}/${m}/${d}`
      : `AWSLogs/aws-account-id=${a}/aws-service=vpcflowlogs/aws-region=${r}/year=${y}/month=${m}/day=${d}${flowLog.layout === 'hive-hourly' ? `/hour=${h}` : ''}`;
  // AWS's hash is random; ours is derived so a seed reproduces the same names.
  const hash = hashString(`${flowLog.id}/${windowStart}`, seed).toString(16).padStart(8, '0');
  const suffix = flowLog.fileFormat === 'parquet' ? 'log.parquet' : 'log.gz';
  return `${folder}/${a}_vpcflowlogs_${r}_${flowLog.id}_${y}${m}${d}T${h}${min}Z_${hash}.${suffix}`;
}
