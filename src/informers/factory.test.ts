import { describe, expect, it } from 'vitest';
import { FakeClock, FakeRestClient, flush } from '../testing/index.ts';
import { SharedInformerFactory } from './factory.ts';
import { lister } from './lister.ts';
import { JOBS, PODS, REPLICASETS, type KubeObject, type ResourceRef } from './types.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false };

function factory(options: { namespace?: string } = {}) {
  const clock = new FakeClock();
  const client = new FakeRestClient();
  return { clock, client, factory: new SharedInformerFactory({ client, clock, ...options }) };
}

describe('SharedInformerFactory', () => {
  it('returns one informer per resource, namespace, selectors and metadataOnly', () => {
    const { factory: f } = factory();
    const pods = f.informerFor(PODS, { namespace: 'a' });
    expect(f.informerFor(PODS, { namespace: 'a' })).toBe(pods);
    expect(f.informerFor(PODS, { namespace: 'a', resyncPeriodMs: 5_000 })).toBe(pods);
    for (const other of [
      f.informerFor(PODS),
      f.informerFor(PODS, { namespace: 'b' }),
      f.informerFor(PODS, { namespace: 'a', labelSelector: 'app=web' }),
      f.informerFor(PODS, { namespace: 'a', fieldSelector: 'spec.nodeName=n1' }),
      f.informerFor(PODS, { namespace: 'a', metadataOnly: true }),
      f.informerFor(JOBS, { namespace: 'a' }),
    ]) {
      expect(other).not.toBe(pods);
    }
    // A cluster-scoped resource has no namespace to tell informers apart.
    expect(f.informerFor(NODES, { namespace: 'a' })).toBe(f.informerFor(NODES));
  });

  it('builds core and grouped paths, namespaced or across namespaces, with selectors', async () => {
    const { factory: f, client } = factory({ namespace: 'team' });
    f.informerFor(PODS, { labelSelector: 'app=web', fieldSelector: 'status.phase=Running' });
    f.informerFor(PODS, { namespace: 'other' });
    f.informerFor(REPLICASETS);
    f.informerFor(NODES);
    const controller = new AbortController();
    f.start(controller.signal);
    await flush();
    // Each informer lists through one watch-list stream.
    const lists = client.calls.filter((c) => c.verb === 'watch' && c.query.sendInitialEvents === true);
    expect(lists.map((c) => c.path).sort()).toEqual([
      '/api/v1/namespaces/other/pods',
      '/api/v1/namespaces/team/pods',
      '/api/v1/nodes',
      '/apis/apps/v1/namespaces/team/replicasets',
    ]);
    expect(lists.find((c) => c.query.labelSelector)?.query).toMatchObject({
      sendInitialEvents: true,
      labelSelector: 'app=web',
      fieldSelector: 'status.phase=Running',
    });
    expect(client.count('list')).toBe(0);
    const watch = client.calls.find((c) => c.verb === 'watch' && c.query.labelSelector);
    expect(watch?.query).toMatchObject({ labelSelector: 'app=web', fieldSelector: 'status.phase=Running' });
    controller.abort();
    await f.shutdown();
  });

  it('starts informers created so far, and later ones at the next start', async () => {
    const { factory: f, client } = factory();
    f.informerFor(PODS);
    const controller = new AbortController();
    f.start(controller.signal);
    await flush();
    expect(client.count('watch')).toBe(1);
    f.informerFor(JOBS);
    await flush();
    expect(client.count('watch')).toBe(1);
    f.start(controller.signal);
    await flush();
    expect(client.count('watch')).toBe(2);
    controller.abort();
    await f.shutdown();
  });

  it('starts an informer asked for after start at once with startNewInformers, and stops it with the rest', async () => {
    const { factory: f, client } = factory();
    f.informerFor(JOBS);
    f.startNewInformers();
    await flush();
    expect(client.count('watch')).toBe(0);
    const controller = new AbortController();
    f.start(controller.signal);
    await flush();
    f.informerFor(REPLICASETS, { metadataOnly: true });
    f.startNewInformers();
    await flush();
    expect(client.calls.filter((c) => c.verb === 'watch').map((c) => c.path)).toEqual([
      '/apis/batch/v1/jobs',
      '/apis/apps/v1/replicasets',
    ]);
    controller.abort();
    await f.shutdown();
    expect(client.watches.every((w) => w.closed)).toBe(true);
    f.informerFor(PODS);
    f.startNewInformers();
    await flush();
    expect(client.count('watch')).toBe(2);
  });

  it('waits for the caches of started informers, polling every 100 ms', async () => {
    const { factory: f, client, clock } = factory();
    let releaseList: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (releaseList = resolve));
    const serve = client.listHandler;
    client.listHandler = async (path, query) => {
      await held;
      return serve(path, query);
    };
    f.informerFor(PODS);
    const controller = new AbortController();
    f.start(controller.signal);
    let result: boolean | undefined;
    void f.waitForCacheSync(controller.signal, 1_000).then((r) => (result = r));
    await flush();
    clock.step(500);
    await flush();
    expect(result).toBeUndefined();
    releaseList();
    await flush();
    expect(result).toBeUndefined();
    clock.step(100);
    await flush();
    expect(result).toBe(true);
    controller.abort();
    await f.shutdown();
  });

  it('gives up waiting for the caches on timeout and on abort', async () => {
    const { factory: f, client, clock } = factory();
    client.listHandler = () => new Promise(() => undefined);
    f.informerFor(PODS);
    const controller = new AbortController();
    f.start(controller.signal);
    const timedOut = f.waitForCacheSync(controller.signal, 1_000);
    await flush();
    for (let i = 0; i < 10; i++) {
      clock.step(100);
      await flush();
    }
    expect(await timedOut).toBe(false);
    const aborted = f.waitForCacheSync(controller.signal, 60_000);
    controller.abort();
    expect(await aborted).toBe(false);
    await f.shutdown();
  });

  it('shutdown stops every informer and waits for them', async () => {
    const { factory: f, client } = factory();
    f.informerFor(PODS);
    f.informerFor(JOBS);
    f.start(new AbortController().signal);
    await flush();
    expect(client.watches).toHaveLength(2);
    await f.shutdown();
    expect(client.watches.every((w) => w.closed)).toBe(true);
    expect(() => {
      f.start(new AbortController().signal);
    }).toThrow(/shut down/);
  });

  it('adds the new indexers a second caller asks for to the shared informer', async () => {
    const { factory: f, client } = factory();
    client.objects = [{ metadata: { namespace: 'ns', name: 'a', labels: { app: 'web' } } }];
    const first = f.informerFor<KubeObject>(PODS, {
      indexers: { app: (o: KubeObject) => [o.metadata?.labels?.app ?? ''] },
    });
    const second = f.informerFor<KubeObject>(PODS, {
      indexers: { name: (o: KubeObject) => [o.metadata?.name ?? ''] },
    });
    expect(second).toBe(first);
    f.start(new AbortController().signal);
    await flush();
    expect(first.store.byIndex('app', 'web')).toHaveLength(1);
    expect(first.store.byIndex('name', 'a')).toHaveLength(1);
    await f.shutdown();
  });
});

describe('lister', () => {
  it('reads by namespace and name, and lists one namespace or all', async () => {
    const { factory: f, client } = factory();
    client.objects = [
      { metadata: { namespace: 'a', name: 'x' } },
      { metadata: { namespace: 'a', name: 'y' } },
      { metadata: { namespace: 'b', name: 'x' } },
    ];
    const pods = f.informerFor<KubeObject>(PODS);
    f.start(new AbortController().signal);
    await flush();
    const l = lister(pods);
    expect(l.get('b', 'x')?.metadata).toMatchObject({ namespace: 'b', name: 'x' });
    expect(l.get('c', 'x')).toBeUndefined();
    expect(
      l
        .list('a')
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(l.list()).toHaveLength(3);
    await f.shutdown();
  });
});
