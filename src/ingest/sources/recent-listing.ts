/**
 * What `flowql ingest --watch` lists at each run. Listing a whole prefix costs what the prefix holds: a year of one
 * flow log at AWS's pace (about 290 objects a day, more when it is busy) is 100,000 keys, 100 ListObjectsV2 pages at
 * every run, which outgrows a 30-second interval within months, though each run finds a handful of new objects.
 *
 * AWS files every object under a folder per UTC day (`.../vpcflowlogs/<region>/YYYY/MM/DD/`, or `year=/month=/day=`)
 * named after its delivery window, and delivers within minutes. So after a full listing has shown that every key of a
 * source sits in such folders, the following runs list only some day folders of each flow log it found: today's,
 * yesterday's (UTC), and those of the newest day found there and the next (RecentListing.list). A full listing comes
 * again every `fullEveryMs` (default an hour) and finds what those could not show: a flow log (account or region)
 * that started delivering since, an object delivered more than a day late, an old object replaced. Other AWS
 * services' logs beside them (CloudTrail under the same `AWSLogs/`) are no flow logs and wait for the full listings
 * too; a source holding any other key (a folder of downloads, a single object) is always listed whole. Listing less
 * never loses data: an object not listed is neither loaded nor forgotten, only found later.
 */
import { statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { dayFolder, dayFolderOf, otherServiceLog, type DayFolders } from '../../domain/object-key.ts';
import { parseS3Uri } from '../s3-client.ts';
import type { SourceObject } from './source-object.ts';

const DAY_MS = 86_400_000;

/** How one listing of a source is done. */
export type ListSource = (uri: string) => AsyncIterable<SourceObject>;

/** What the run listed: every source whole, or the day folders of these dates. */
export type ListingScope = { readonly kind: 'full' } | { readonly kind: 'recent'; readonly days: readonly string[] };

/** Where a source's keys live: the S3 key prefix it names, or a local folder's path with `/` separators. */
function keySpace(source: string): { readonly within: string; readonly uriOf: (keyPrefix: string) => string } {
  if (source.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Uri(source);
    return { within: prefix, uriOf: (k) => `s3://${bucket}/${k}` };
  }
  const abs = resolve(source);
  const within = `${abs.split(sep).join('/')}/`;
  return { within, uriOf: (k) => k.split('/').join(sep) };
}

/** One flow log's day folders under a source, and the newest day a listing found in them. */
interface FlowLogFolders {
  readonly folders: DayFolders;
  newest: string;
}

const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/** The watch loop's listing state, kept from one run to the next. */
export class RecentListing {
  /** Per source: its flow logs' day folders (by stem), or null when some key of it sits in no day folder. */
  private readonly folders = new Map<string, Map<string, FlowLogFolders> | null>();
  private lastFull = -Infinity;
  private started = 0;
  private scope: ListingScope = { kind: 'full' };

  constructor(
    private readonly fullEveryMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decides this run's listing; call once per run, before `list`. */
  begin(): ListingScope {
    this.started = this.now();
    if (this.started - this.lastFull >= this.fullEveryMs) {
      this.scope = { kind: 'full' };
    } else {
      const today = new Date(this.started).toISOString().slice(0, 10);
      const yesterday = new Date(this.started - DAY_MS).toISOString().slice(0, 10);
      this.scope = { kind: 'recent', days: [yesterday, today] };
    }
    return this.scope;
  }

  /**
   * Every source was listed to its end. Only then does a full listing count: one that failed part way (S3 briefly
   * unreachable) proves nothing about the folders, and the next run lists everything again.
   */
  listed(): void {
    if (this.scope.kind === 'full') this.lastFull = this.started;
  }

  /**
   * The objects of `source` this run lists, by `listAll` over the source or over its recent day folders: today's and
   * yesterday's, and the newest day found in each flow log's folders and the day after it (objects copied from the
   * past into a watched folder, a replay or a backfill, land in the newest day's folder or the next one).
   */
  async *list(source: string, listAll: ListSource): AsyncIterable<SourceObject> {
    const known = this.folders.get(source);
    if (this.scope.kind === 'recent' && known) {
      const { uriOf } = keySpace(source);
      for (const flowLog of known.values()) {
        const days = new Set([...this.scope.days, flowLog.newest, dayAfter(flowLog.newest)]);
        for (const date of [...days].sort()) {
          const uri = uriOf(dayFolder(flowLog.folders, date));
          // A local day folder that does not exist (yet) holds nothing; an S3 prefix lists nothing by itself.
          if (!uri.startsWith('s3://') && !statSync(uri, { throwIfNoEntry: false })?.isDirectory()) continue;
          for await (const obj of listAll(uri)) {
            if (date > flowLog.newest) flowLog.newest = date;
            yield obj;
          }
        }
      }
      return;
    }
    // Everything, learning where the source's flow logs keep their day folders.
    const { within } = keySpace(source);
    const flowLogs = new Map<string, FlowLogFolders>();
    let restrictable = true;
    for await (const obj of listAll(source)) {
      const at = restrictable ? dayFolderOf(obj.key) : null;
      // A day folder above the source (a source naming one day, or one object) would list beyond it. Another AWS
      // service's logs under the same AWSLogs/ (CloudTrail, say) are no flow logs: left to the whole listings.
      if (at !== null && at.folders.stem.startsWith(within)) {
        const seen = flowLogs.get(at.folders.stem);
        if (!seen) flowLogs.set(at.folders.stem, { folders: at.folders, newest: at.date });
        else if (at.date > seen.newest) seen.newest = at.date;
      } else if (!otherServiceLog(obj.key)) restrictable = false;
      yield obj;
    }
    this.folders.set(source, restrictable && flowLogs.size > 0 ? flowLogs : null);
  }
}
