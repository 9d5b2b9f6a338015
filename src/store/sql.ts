/**
 * A tiny SQL builder: a tagged template that turns every interpolated value into a bound positional parameter
 * (`$1`, `$2`, ...), so user input never becomes SQL text. Identifiers and fragments enter only through `ident`
 * (checked against an allow-list) and `raw` (for text written in this codebase), never from a request.
 */

/** A value DuckDB can bind. bigint for exact 64-bit integers; Date is bound as a TIMESTAMP. */
export type SqlValue = string | number | bigint | boolean | null | Date | readonly string[] | readonly number[];

/** A named, parameterised statement. `name` is stable (`flows.page`) and used in logs, metrics and errors. */
export interface SqlQuery {
  readonly name: string;
  readonly text: string;
  readonly params: readonly SqlValue[];
}

const FRAGMENT = Symbol('sql fragment');

/** A piece of SQL that may contain its own parameters; produced by `sql`, `raw`, `ident`, `join`. */
export interface SqlFragment {
  readonly [FRAGMENT]: true;
  readonly strings: readonly string[];
  readonly values: readonly (SqlValue | SqlFragment)[];
}

function isFragment(v: unknown): v is SqlFragment {
  return typeof v === 'object' && v !== null && FRAGMENT in v;
}

/** sql`SELECT * FROM t WHERE a = ${value} AND ${otherFragment}` */
export function sql(strings: TemplateStringsArray, ...values: (SqlValue | SqlFragment)[]): SqlFragment {
  return { [FRAGMENT]: true, strings: [...strings], values };
}

/** Trusted SQL text written in this codebase (never request input). */
export function raw(text: string): SqlFragment {
  return { [FRAGMENT]: true, strings: [text], values: [] };
}

/** An identifier from an allow-list; anything else is a programming error. */
export function ident(name: string, allowed: ReadonlySet<string>): SqlFragment {
  if (!allowed.has(name) || !/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`identifier not allowed: ${name}`);
  return raw(name === 'end' ? '"end"' : name);
}

/** Fragments joined by a separator (`, `, ` AND `). An empty list yields `empty`. */
export function join(parts: readonly SqlFragment[], separator: string, empty = ''): SqlFragment {
  if (parts.length === 0) return raw(empty);
  const strings: string[] = ['', ...parts.slice(1).map(() => separator), ''];
  return { [FRAGMENT]: true, strings, values: parts };
}

/** Render a fragment to text with `$n` placeholders and its parameter list. */
export function build(name: string, fragment: SqlFragment): SqlQuery {
  const params: SqlValue[] = [];
  const render = (f: SqlFragment): string => {
    let out = f.strings[0] ?? '';
    f.values.forEach((v, i) => {
      if (isFragment(v)) out += render(v);
      else {
        params.push(v);
        out += `$${params.length}`;
      }
      out += f.strings[i + 1] ?? '';
    });
    return out;
  };
  return { name, text: render(fragment), params };
}
