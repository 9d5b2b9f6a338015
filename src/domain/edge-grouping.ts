/**
 * What an edge end is: a level, and for the TAG level the tag key whose value groups the ends (service-to-service by
 * `app`). Checked here once for GraphQL and dataset URLs: TAG needs a key, and a key without TAG would be ignored, so
 * both are refused (BAD_USER_INPUT naming the argument).
 */
import type { EdgeLevel } from './connection-enums.ts';
import { tagKey as checkTagKey } from './filter-values.ts';
import { InputError } from './input-error.ts';

/** A level and, for TAG, its tag key. */
export interface EdgeGrouping {
  readonly level: EdgeLevel;
  readonly tagKey: string | null;
}

/** The grouping of `level` and `tagKey`; `argument` names the key's argument (`tagKey`, or a URL parameter). */
export function edgeGrouping(level: EdgeLevel, tagKey: unknown, argument = 'tagKey'): EdgeGrouping {
  const given = tagKey !== undefined && tagKey !== null;
  if (level !== 'TAG') {
    if (given) throw new InputError(argument, `no ${argument} with level ${level} (it names the key of level TAG)`);
    return { level, tagKey: null };
  }
  if (!given) throw new InputError(argument, 'a tag key with level TAG (such as "app")');
  return { level, tagKey: checkTagKey(tagKey, argument) };
}
