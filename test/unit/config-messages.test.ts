/**
 * Every configuration problem reads in plain words: it names the flag and variable and says what was expected,
 * never zod's default text ("Invalid input: expected number, received NaN"). Runs over every setting, so a setting
 * added later without its own message is still covered by the fallback wording.
 */
import { expect, it } from 'vitest';
import { CONFIG_SOURCES, ConfigError, parseConfig, type ConfigFlags } from '../../src/config.ts';

const ZOD_WORDING =
  /Invalid input|received|Too small|Too big|Invalid string|Invalid option|Invalid URL|expected (number|int|string|boolean)\b/;
const BAD_VALUES: readonly unknown[] = ['abc', '-1', '1.5', '1e12', '', 'http//x', 0, true];

function problemsOf(flags: ConfigFlags): readonly string[] {
  try {
    parseConfig({}, flags);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

it('words every refused value of every setting as "<flag> / <VAR> = <value>: expected ..."', () => {
  let refused = 0;
  for (const [key, source] of Object.entries(CONFIG_SOURCES)) {
    for (const value of BAD_VALUES) {
      for (const problem of problemsOf({ [key]: value })) {
        refused++;
        // One cross-setting check may answer instead (a max page size of 1 is below the default page size 100).
        if (!problem.startsWith('--default-page-size / FLOWQL_DEFAULT_PAGE_SIZE = 100: ')) {
          expect(problem.startsWith(`${source.flag} / ${source.env} = ${JSON.stringify(value)}: `), problem).toBe(true);
        }
        expect(problem, problem).not.toMatch(ZOD_WORDING);
        expect(problem.slice(problem.indexOf(': ') + 2), problem).toMatch(/^(expected|must) /);
      }
    }
  }
  expect(refused).toBeGreaterThan(50);
});

it('says exactly what each kind of setting expects', () => {
  expect(problemsOf({ port: 'abc' })).toEqual([
    '--port / FLOWQL_PORT = "abc": expected a whole number from 0 to 65535',
  ]);
  expect(problemsOf({ port: '65536' })).toEqual([
    '--port / FLOWQL_PORT = "65536": expected a whole number from 0 to 65535',
  ]);
  expect(problemsOf({ maxPageSize: '2.5' })).toEqual([
    '--max-page-size / FLOWQL_MAX_PAGE_SIZE = "2.5": expected a whole number from 1 to 100000',
  ]);
  expect(problemsOf({ maxRangeDays: '0' })).toEqual([
    '--max-range-days / FLOWQL_MAX_RANGE_DAYS = "0": expected a number above 0, at most 3660',
  ]);
  expect(problemsOf({ introspection: 'no' })).toEqual([
    '--no-introspection / FLOWQL_INTROSPECTION = "no": expected true, false, 1 or 0',
  ]);
  expect(parseConfig({}, { maxRangeDays: '0.5', port: '0', introspection: '0' })).toMatchObject({
    maxRangeDays: 0.5,
    port: 0,
    introspection: false,
  });
});
