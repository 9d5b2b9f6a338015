/**
 * What an S3 key (or a local path laid out like one) says about the flow-log object: account, region, date, hour,
 * flow log id and file format. AWS's layouts (flow-logs.md §5.1-5.2):
 *
 *   .../AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<file>
 *   .../AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]<file>
 *   <file> = <acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz | .log.parquet
 *
 * The file name is the most specific source; the folders fill in what it lacks. Unrecognised keys give nulls.
 */

/** What a key tells about its object; every part is null when the key does not say. */
export interface ObjectKeyInfo {
  readonly accountId: string | null;
  readonly region: string | null;
  /** UTC date of the folder or file-name timestamp, YYYY-MM-DD. */
  readonly date: string | null;
  /** Hour folder (hourly partitions) or file-name hour, 0-23. */
  readonly hour: number | null;
  readonly flowLogId: string | null;
  /** From the suffix: `.gz` text, `.parquet`, plain text (`.log`/`.txt`), or unknown (sniff the bytes). */
  readonly format: 'gzip' | 'parquet' | 'text' | null;
}

const FILE_NAME =
  /^(\d{12})_vpcflowlogs_([a-z0-9-]+)_(fl-[0-9a-z]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[0-9a-zA-Z]+\.log\.(gz|parquet)$/;
// Each layout's folders in two parts: the flow log's own folders (account, region), then its day folders.
const PLAIN_STEM = String.raw`AWSLogs/(\d{12})/vpcflowlogs/([a-z0-9-]+)/`;
const PLAIN_DAY = String.raw`(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?`;
const HIVE_STEM = String.raw`AWSLogs/aws-account-id=(\d{12})/aws-service=vpcflowlogs/aws-region=([a-z0-9-]+)/`;
const HIVE_DAY = String.raw`year=(\d{4})/month=(\d{2})/day=(\d{2})/(?:hour=(\d{2})/)?`;
const PLAIN = new RegExp(`(?:^|/)${PLAIN_STEM}${PLAIN_DAY}`);
const HIVE = new RegExp(`(?:^|/)${HIVE_STEM}${HIVE_DAY}`);

function validDate(y: string, m: string, d: string): string | null {
  const iso = `${y}-${m}-${d}`;
  const t = Date.parse(`${iso}T00:00:00Z`);
  return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== iso ? null : iso;
}

function hourOf(h: string | undefined): number | null {
  if (h === undefined) return null;
  const n = Number(h);
  return n >= 0 && n <= 23 ? n : null;
}

function formatOf(name: string): ObjectKeyInfo['format'] {
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.gz')) return 'gzip';
  if (name.endsWith('.log') || name.endsWith('.txt')) return 'text';
  return null;
}

/** Parses a key or a `/`-separated relative path. Never throws. */
export function parseObjectKey(key: string): ObjectKeyInfo {
  const path = key.replaceAll('\\', '/');
  const name = path.slice(path.lastIndexOf('/') + 1);
  const folder = HIVE.exec(path) ?? PLAIN.exec(path);
  const file = FILE_NAME.exec(name);
  const [, fAcct, fRegion, flowLogId, fy, fm, fd, fh] = file ?? [];
  const [, dAcct, dRegion, dy, dm, dd, dh] = folder ?? [];
  const fileDate = fy && fm && fd ? validDate(fy, fm, fd) : null;
  const folderDate = dy && dm && dd ? validDate(dy, dm, dd) : null;
  return {
    accountId: fAcct ?? dAcct ?? null,
    region: fRegion ?? dRegion ?? null,
    date: fileDate ?? folderDate,
    hour: fileDate ? hourOf(fh) : hourOf(dh),
    flowLogId: flowLogId ?? null,
    format: formatOf(name),
  };
}

/**
 * When the key says its object's records begin, as text that sorts in time order: `YYYY-MM-DDTHH:mm` from the file
 * name's timestamp, else `YYYY-MM-DD` (with `THH` from an hour folder) from the folders; null when the key says
 * nothing. An ingest loads a backlog in this order (ingest-run.ts).
 */
export function objectKeyTime(key: string): string | null {
  const path = key.replaceAll('\\', '/');
  const file = FILE_NAME.exec(path.slice(path.lastIndexOf('/') + 1));
  if (file) {
    const [, , , , y, m, d, h, min] = file;
    const date = validDate(y!, m!, d!);
    if (date !== null && hourOf(h) !== null) return `${date}T${h}:${min}`;
  }
  const info = parseObjectKey(key);
  if (info.date === null) return null;
  return info.hour === null ? info.date : `${info.date}T${String(info.hour).padStart(2, '0')}`;
}

/** Where one flow log's day folders sit in AWS's layout: the key up to them, and how they are named. */
export interface DayFolders {
  /** The key up to and including the region folder (`.../AWSLogs/<acct>/vpcflowlogs/<region>/`). */
  readonly stem: string;
  readonly style: 'plain' | 'hive';
}

const STEMS: readonly { readonly style: DayFolders['style']; readonly re: RegExp }[] = [
  { style: 'hive', re: new RegExp(`^(.*?(?:^|/)${HIVE_STEM})${HIVE_DAY}`) },
  { style: 'plain', re: new RegExp(`^(.*?(?:^|/)${PLAIN_STEM})${PLAIN_DAY}`) },
];

/**
 * The day folders a key sits in, and the day of its own folder, when it is laid out as AWS lays out flow logs (null
 * otherwise, or when the folders name no calendar day).
 */
export function dayFolderOf(key: string): { readonly folders: DayFolders; readonly date: string } | null {
  const path = key.replaceAll('\\', '/');
  for (const { style, re } of STEMS) {
    const m = re.exec(path);
    // m[1] the stem; m[2], m[3] account and region; m[4..6] year, month, day.
    const date = m ? validDate(m[4]!, m[5]!, m[6]!) : null;
    if (m && date !== null) return { folders: { stem: m[1]!, style }, date };
  }
  return null;
}

// Where AWS delivers other services' logs beside flow logs (CloudTrail, its digests, load balancers, ...): AWSLogs/ then
// the account, then a service folder that is not vpcflowlogs.
const OTHER_SERVICE =
  /(?:^|\/)AWSLogs\/(?:\d{12}\/(?!vpcflowlogs\/)[^/]+\/|aws-account-id=\d{12}\/aws-service=(?!vpcflowlogs\/)[^/]+\/)/;

/** A key AWS delivers for another service than VPC Flow Logs (CloudTrail, load balancers, ...): never a flow log. */
export function otherServiceLog(key: string): boolean {
  return OTHER_SERVICE.test(key.replaceAll('\\', '/'));
}

/** The folder of UTC `date` (YYYY-MM-DD) under `folders`, ending in `/`. */
export function dayFolder(folders: DayFolders, date: string): string {
  const [y, m, d] = date.split('-');
  return folders.style === 'hive' ? `${folders.stem}year=${y}/month=${m}/day=${d}/` : `${folders.stem}${y}/${m}/${d}/`;
}
