import { describe, expect, it } from 'vitest';
import { objectKey, splitKey } from './object-key.ts';
import { isTombstone, tombstone } from './types.ts';

describe('objectKey and splitKey', () => {
  it('keys namespaced objects by namespace/name and cluster-scoped ones by name', () => {
    expect(objectKey({ metadata: { namespace: 'ns', name: 'a' } })).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(objectKey({ metadata: { namespace: '', name: 'node-1' } })).toBe('node-1');
    expect(() => objectKey({ metadata: { namespace: 'ns' } })).toThrow(/no metadata.name/);
  });

  it('splits keys back, refusing malformed ones', () => {
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ name: 'node-1' });
    for (const bad of ['', '/a', 'ns/', 'a/b/c']) expect(() => splitKey(bad)).toThrow(/unexpected key/);
  });
});

describe('Tombstone', () => {
  it('is recognised structurally, and an ordinary object is not one', () => {
    const obj = { kind: 'Pod', metadata: { name: 'a' } };
    const t = tombstone('ns/a', obj);
    expect(isTombstone(t)).toBe(true);
    expect(isTombstone({ kind: 'Tombstone', key: 'ns/a', obj })).toBe(true);
    expect(isTombstone<unknown>(obj)).toBe(false);
    expect(isTombstone<unknown>({ kind: 'Tombstone' })).toBe(false);
    expect(Object.isFrozen(t)).toBe(true);
  });
});
