import { describe, expect, it } from 'vitest';
import { FakeLeaseClient } from '../testing/index.ts';
import { isConflict } from '../client/index.ts';
import { LeaseLock, recordFromSpec } from './lease-lock.ts';
import { formatMicroTime, sameRecord, type LeaderElectionRecord } from './record.ts';

const signal = new AbortController().signal;
const record = (holderIdentity: string, leaseTransitions = 0): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  acquireTime: '2026-01-01T00:00:00.000000Z',
  renewTime: '2026-01-01T00:00:01.000000Z',
  leaseTransitions,
});

function lockOn(client: FakeLeaseClient, identity = 'me', labels?: Record<string, string>): LeaseLock {
  return new LeaseLock({ client, namespace: 'ns', name: 'lock', identity, ...(labels ? { labels } : {}) });
}

describe('formatMicroTime', () => {
  it('writes RFC 3339 UTC with six fractional digits, like metav1.MicroTime', () => {
    expect(formatMicroTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe('2026-01-02T03:04:05.678000Z');
    expect(formatMicroTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0)))).toBe('2026-01-02T03:04:05.000000Z');
  });
});

describe('LeaseLock', () => {
  it('reads a missing Lease as undefined and creates it with the record as spec', async () => {
    const client = new FakeLeaseClient();
    const lock = lockOn(client, 'me', { app: 'op' });
    expect(await lock.get(signal)).toBeUndefined();
    await lock.create(record('me'), signal);
    const stored = client.peek('ns', 'lock');
    expect(stored?.metadata).toMatchObject({ name: 'lock', namespace: 'ns', labels: { app: 'op' } });
    expect(stored?.spec).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T00:00:00.000000Z',
      renewTime: '2026-01-01T00:00:01.000000Z',
      leaseTransitions: 0,
    });
    expect(await lock.get(signal)).toEqual(record('me'));
    expect(lock.describe()).toBe('ns/lock');
  });

  it('fails create with a 409 (AlreadyExists) when the Lease exists', async () => {
    const client = new FakeLeaseClient();
    client.put({ metadata: { name: 'lock', namespace: 'ns' }, spec: { holderIdentity: 'other' } });
    const err = await lockOn(client)
      .create(record('me'), signal)
      .catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect(err).toMatchObject({ reason: 'AlreadyExists' });
  });

  it('refuses to update before anything was read', async () => {
    await expect(lockOn(new FakeLeaseClient()).update(record('me'), signal)).rejects.toThrow(/not read yet/);
  });

  it('updates with the cached resourceVersion, so a write by anyone else in between gets a 409', async () => {
    const client = new FakeLeaseClient();
    const lock = lockOn(client);
    await lock.create(record('me'), signal);
    await lock.update(record('me', 0), signal); // our own writes refresh the cache
    client.put({ metadata: { name: 'lock', namespace: 'ns' }, spec: { holderIdentity: 'other' } });
    expect(isConflict(await lock.update(record('me', 1), signal).catch((e: unknown) => e))).toBe(true);
    expect(client.peek('ns', 'lock')?.spec.holderIdentity).toBe('other');
    expect(await lock.get(signal)).toMatchObject({ holderIdentity: 'other' });
    await lock.update(record('me', 1), signal);
    expect(client.peek('ns', 'lock')?.spec).toMatchObject({ holderIdentity: 'me', leaseTransitions: 1 });
  });

  it('keeps the metadata it read (annotations, labels) and replaces the whole spec', async () => {
    const client = new FakeLeaseClient();
    client.put({
      metadata: { name: 'lock', namespace: 'ns', annotations: { keep: 'me' }, labels: { a: '1' } },
      spec: { holderIdentity: 'x', preferredHolder: 'y', strategy: 'OldestEmulationVersion' },
    });
    const lock = lockOn(client, 'me', { b: '2' });
    await lock.get(signal);
    await lock.update(record('me'), signal);
    const stored = client.peek('ns', 'lock');
    expect(stored?.metadata).toMatchObject({ annotations: { keep: 'me' }, labels: { a: '1', b: '2' } });
    expect(stored?.spec.preferredHolder).toBeUndefined();
    expect(stored?.spec.strategy).toBeUndefined();
  });

  it('reads absent spec fields as no holder, 0 seconds, 0 transitions', () => {
    expect(recordFromSpec({})).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      acquireTime: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
    });
  });

  it('compares records field by field', () => {
    expect(sameRecord(record('a'), record('a'))).toBe(true);
    expect(sameRecord(record('a'), { ...record('a'), renewTime: '2026-01-01T00:00:02.000000Z' })).toBe(false);
    expect(sameRecord(record('a'), record('a', 1))).toBe(false);
    expect(sameRecord(undefined, record('a'))).toBe(false);
    expect(sameRecord(undefined, undefined)).toBe(true);
  });
});
