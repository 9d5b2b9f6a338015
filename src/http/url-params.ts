/**
 * Reading URL query parameters into checked values (the dataset routes' parameters, dataset-params.ts): lists split on
 * commas, single values, enum members (case-insensitive, `-` for `_`), flags and counts, each refusal an InputError
 * naming the parameter.
 */
import { InputError } from '../domain/input-error.ts';
import { checkCount } from '../domain/aggregate-enums.ts';

/** Every value of a parameter, split on commas, empty pieces dropped. */
export function values(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** The one value of a parameter (null when absent); a parameter given twice is refused. */
export function single(params: URLSearchParams, name: string): string | null {
  const all = params.getAll(name);
  if (all.length > 1) throw new InputError(name, 'a single value', all);
  return all[0]?.trim() || null;
}

/** One member of `allowed` (`fallback` when absent). */
export function enumValue<T extends string>(
  params: URLSearchParams,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = single(params, name);
  if (v === null) return fallback;
  const upper = v.toUpperCase().replaceAll('-', '_');
  if (!(allowed as readonly string[]).includes(upper)) throw new InputError(name, `one of ${allowed.join(', ')}`, v);
  return upper as T;
}

/** Members of `allowed`, comma-separated (null when absent). */
export function enumList<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[]): T[] | null {
  const list = values(params, name);
  if (list.length === 0) return null;
  return list.map((v, i) => {
    const upper = v.toUpperCase().replaceAll('-', '_');
    if (!(allowed as readonly string[]).includes(upper))
      throw new InputError(`${name}[${i}]`, `one of ${allowed.join(', ')}`, v);
    return upper as T;
  });
}

/** A boolean parameter: `true`/`false` (`1`/`0`, or present without a value, as in `?latestDay`). */
export function flag(params: URLSearchParams, name: string): boolean | null {
  if (!params.has(name)) return null;
  const v = single(params, name) ?? '';
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InputError(name, 'true or false', v);
}

/** A whole number from 1 to `max` (`fallback`, capped at `max`, when absent). */
export function count(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const v = single(params, name);
  if (v === null) return Math.min(fallback, max);
  if (!/^\d+$/.test(v)) throw new InputError(name, `an integer from 1 to ${max}`, v);
  return checkCount(name, Number(v), 1, max);
}
