import { describe, expect, it } from 'vitest';
import { validateFlowFilter } from '../../../src/domain/flow-filter.ts';
import { ForbiddenError } from '../../../src/domain/forbidden-error.ts';

describe('tenant scope in validateFlowFilter', () => {
  const options = { scopeAccountIds: ['111111111111', '222222222222'], now: new Date('2026-01-02T00:00:00Z') };

  it('refuses an account outside the scope by argument and account, before anything else', () => {
    let error: unknown;
    try {
      validateFlowFilter({ accountIds: ['222222222222', '333333333333'] }, options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).argument).toBe('filter.accountIds[1]');
    expect((error as ForbiddenError).message).toBe(
      'Forbidden: filter.accountIds[1] names account 333333333333, which this API key may not read',
    );
  });

  it('keeps the scope on the filter for accounts inside it, and allows everything without a scope', () => {
    const f = validateFlowFilter({ accountIds: ['111111111111'] }, options);
    expect([f.accountIds, f.scopeAccountIds]).toEqual([['111111111111'], ['111111111111', '222222222222']]);
    expect(validateFlowFilter({ accountIds: ['333333333333'] }, { now: options.now }).scopeAccountIds).toBeNull();
  });
});
