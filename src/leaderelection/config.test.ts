import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS, LeaderElectionConfigError, resolveTimings, validateIdentity } from './config.ts';
import { requestTimeoutFor } from './defaults.ts';
import { leaderElectionIdentity } from './identity.ts';

describe('resolveTimings', () => {
  it('defaults to client-go core clients: 15 s lease, 10 s renew deadline, 2 s retry period', () => {
    expect(resolveTimings()).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(DEFAULT_TIMINGS).toEqual(resolveTimings({}));
  });

  it('fills in only what is missing', () => {
    expect(resolveTimings({ retryPeriodMs: 500 })).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 500,
    });
  });

  it('rejects a lease duration not above the renew deadline, naming both values', () => {
    expect(() => resolveTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      new LeaderElectionConfigError('leaseDurationMs (10000) must be greater than renewDeadlineMs (10000)'),
    );
    expect(() => resolveTimings({ leaseDurationMs: 9_000 })).toThrow(/leaseDurationMs \(9000\).*\(10000\)/);
  });

  it('rejects a renew deadline not above 1.2 x the retry period, and accepts one just above', () => {
    expect(() => resolveTimings({ renewDeadlineMs: 2_400, retryPeriodMs: 2_000 })).toThrow(
      new LeaderElectionConfigError('renewDeadlineMs (2400) must be greater than 1.2 x retryPeriodMs (2000)'),
    );
    expect(() => resolveTimings({ renewDeadlineMs: 2_401, retryPeriodMs: 2_000 })).not.toThrow();
    expect(() =>
      resolveTimings({ leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 }),
    ).not.toThrow();
  });

  it.each([
    ['leaseDurationMs', 0],
    ['renewDeadlineMs', -1],
    ['retryPeriodMs', 0],
    ['retryPeriodMs', Number.NaN],
    ['leaseDurationMs', Number.POSITIVE_INFINITY],
  ])('rejects %s = %s as not a positive duration', (key, value) => {
    expect(() => resolveTimings({ [key]: value })).toThrow(
      new LeaderElectionConfigError(`${key} must be a positive duration, got ${value}`),
    );
  });

  it('rejects a lease duration under one second, which the Lease cannot record', () => {
    expect(() => resolveTimings({ leaseDurationMs: 900, renewDeadlineMs: 800, retryPeriodMs: 100 })).toThrow(
      /leaseDurationMs \(900\) must be at least 1000/,
    );
  });
});

describe('requestTimeoutFor', () => {
  it('is half the renew deadline, but at least 1 s', () => {
    expect(requestTimeoutFor(10_000)).toBe(5_000);
    expect(requestTimeoutFor(2_000)).toBe(1_000);
    expect(requestTimeoutFor(1_500)).toBe(1_000);
  });
});

describe('identity', () => {
  it('is required', () => {
    expect(() => validateIdentity('')).toThrow(LeaderElectionConfigError);
    expect(() => validateIdentity('  ')).toThrow(/identity must not be empty/);
    expect(validateIdentity('a')).toBe('a');
  });

  it('uses POD_NAME, then the hostname, plus "_" and a unique suffix', () => {
    const fixed = { hostname: () => 'node-1', suffix: () => 'abc' };
    expect(leaderElectionIdentity({ ...fixed, env: { POD_NAME: 'operator-7d9f' } })).toBe(
      'operator-7d9f_abc',
    );
    expect(leaderElectionIdentity({ ...fixed, env: { POD_NAME: '' } })).toBe('node-1_abc');
    expect(leaderElectionIdentity({ ...fixed, env: {} })).toBe('node-1_abc');
  });

  it('differs between two calls by default (random UUID suffix)', () => {
    const a = leaderElectionIdentity({ env: {}, hostname: () => 'h' });
    const b = leaderElectionIdentity({ env: {}, hostname: () => 'h' });
    expect(a).toMatch(/^h_[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });
});
