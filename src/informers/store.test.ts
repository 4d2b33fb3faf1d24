import { describe, expect, it } from 'vitest';
import { Indexer, NAMESPACE_INDEX } from './store.ts';
import type { KubeObject } from './types.ts';

function pod(namespace: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return { kind: 'Pod', metadata: { namespace, name, labels } };
}

const byApp = (obj: KubeObject): string[] => {
  const app = obj.metadata?.labels?.app;
  return app ? [app] : [];
};
const byEveryLabel = (obj: KubeObject): string[] => Object.values(obj.metadata?.labels ?? {});

const names = (objs: readonly KubeObject[]): string[] => objs.map((o) => o.metadata?.name ?? '').sort();

describe('Indexer', () => {
  it('gets, lists and counts by key', () => {
    const store = new Indexer<KubeObject>();
    const a = pod('ns1', 'a');
    expect(store.set('ns1/a', a)).toBeUndefined();
    store.set('ns2/b', pod('ns2', 'b'));
    expect(store.get('ns1/a')).toBe(a);
    expect(store.get('ns1/missing')).toBeUndefined();
    expect(store.size).toBe(2);
    expect([...store.listKeys()].sort()).toEqual(['ns1/a', 'ns2/b']);
    expect(names(store.list())).toEqual(['a', 'b']);
    expect(store.delete('ns1/a')).toBe(a);
    expect(store.delete('ns1/a')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('always has a namespace index', () => {
    const store = new Indexer<KubeObject>();
    store.set('ns1/a', pod('ns1', 'a'));
    store.set('ns1/b', pod('ns1', 'b'));
    store.set('ns2/c', pod('ns2', 'c'));
    store.set('node', { metadata: { name: 'node' } });
    expect(names(store.byIndex(NAMESPACE_INDEX, 'ns1'))).toEqual(['a', 'b']);
    expect(names(store.byIndex(NAMESPACE_INDEX, 'ns2'))).toEqual(['c']);
    expect(names(store.byIndex(NAMESPACE_INDEX, ''))).toEqual(['node']);
    expect(store.byIndex(NAMESPACE_INDEX, 'none')).toEqual([]);
  });

  it('moves an object between index values on update and forgets it on delete', () => {
    const store = new Indexer<KubeObject>({ app: byApp });
    store.set('ns/a', pod('ns', 'a', { app: 'web' }));
    store.set('ns/b', pod('ns', 'b', { app: 'web' }));
    expect(names(store.byIndex('app', 'web'))).toEqual(['a', 'b']);

    const moved = pod('ns', 'a', { app: 'db' });
    store.set('ns/a', moved);
    expect(names(store.byIndex('app', 'web'))).toEqual(['b']);
    expect(store.byIndex('app', 'db')).toEqual([moved]);

    store.set('ns/b', pod('ns', 'b'));
    expect(store.byIndex('app', 'web')).toEqual([]);
    store.delete('ns/a');
    expect(store.byIndex('app', 'db')).toEqual([]);
  });

  it('handles index functions with several values, keeping the ones that stay', () => {
    const store = new Indexer<KubeObject>({ label: byEveryLabel });
    store.set('ns/a', pod('ns', 'a', { x: 'one', y: 'two' }));
    store.set('ns/a', pod('ns', 'a', { y: 'two', z: 'three' }));
    expect(store.byIndex('label', 'one')).toEqual([]);
    expect(names(store.byIndex('label', 'two'))).toEqual(['a']);
    expect(names(store.byIndex('label', 'three'))).toEqual(['a']);
  });

  it('does per-change index work independent of how many objects are cached', () => {
    let calls = 0;
    const counting = (obj: KubeObject): string[] => {
      calls++;
      return byApp(obj);
    };
    const store = new Indexer<KubeObject>({ app: counting });
    for (let i = 0; i < 1_000; i++) store.set(`ns/p${i}`, pod('ns', `p${i}`, { app: 'web' }));
    calls = 0;
    store.set('ns/p1', pod('ns', 'p1', { app: 'db' }));
    store.delete('ns/p2');
    // Old and new values of the updated object, and the old values of the deleted one.
    expect(calls).toBe(3);
  });

  it('builds an index added later over the objects already cached', () => {
    const store = new Indexer<KubeObject>();
    store.set('ns/a', pod('ns', 'a', { app: 'web' }));
    store.addIndexers({ app: byApp });
    expect(names(store.byIndex('app', 'web'))).toEqual(['a']);
    expect(() => {
      store.addIndexers({ app: byApp });
    }).toThrow(/already exists/);
    expect(() => store.byIndex('nope', 'x')).toThrow(/does not exist/);
  });

  it('leaves an object out of an index whose function throws, without half-storing it', () => {
    const errors: string[] = [];
    const store = new Indexer<KubeObject>(
      {
        picky: (obj) => {
          if (obj.metadata?.name === 'bad') throw new Error('no');
          return ['ok'];
        },
      },
      (index, key) => errors.push(`${index} ${key}`),
    );
    store.set('ns/bad', pod('ns', 'bad'));
    store.set('ns/good', pod('ns', 'good'));
    expect(errors).toEqual(['picky ns/bad']);
    expect(store.get('ns/bad')).toBeDefined();
    expect(names(store.byIndex('picky', 'ok'))).toEqual(['good']);
    expect(names(store.byIndex(NAMESPACE_INDEX, 'ns'))).toEqual(['bad', 'good']);

    const strict = new Indexer<KubeObject>({
      boom: () => {
        throw new Error('no');
      },
    });
    expect(() => strict.set('ns/x', pod('ns', 'x'))).toThrow(/index boom failed/);
    expect(strict.size).toBe(0);
    expect(strict.byIndex(NAMESPACE_INDEX, 'ns')).toEqual([]);
  });

  it('hands out a frozen list that is rebuilt only after a change', () => {
    const store = new Indexer<KubeObject>();
    store.set('ns/a', pod('ns', 'a'));
    const first = store.list();
    expect(Object.isFrozen(first)).toBe(true);
    expect(store.list()).toBe(first);
    store.set('ns/b', pod('ns', 'b'));
    expect(store.list()).not.toBe(first);
    expect(store.list()).toHaveLength(2);
    expect(first).toHaveLength(1);
  });
});
