import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  captureLogs,
  FakeClock,
  FakeRestClient,
  flush,
  metricSeries,
  type LogLine,
} from '../testing/index.ts';
import { ApiError, isDenied } from '../client/index.ts';
import { METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT } from './list-watch.ts';
import { objectKey } from './object-key.ts';
import { SharedIndexInformer, type SharedInformerOptions } from './shared-informer.ts';
import { isTombstone, PODS, REPLICASETS, type KubeObject, type ResourceHandlers } from './types.ts';

interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string }[] };
}

const pod = (name: string, rv: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv, uid: `uid-${name}` },
  spec: { containers: [{ name: 'main' }] },
  ...extra,
});

/** A handler that records every call as a line, e.g. "add a@1 initial", "delete tombstone ns/c@3". */
function recorder(): { lines: string[]; handlers: ResourceHandlers<Pod> } {
  const lines: string[] = [];
  const at = (p: Pod) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`;
  return {
    lines,
    handlers: {
      onAdd: (obj, initial) => lines.push(`add ${at(obj)}${initial ? ' initial' : ''}`),
      onUpdate: (old, obj) => lines.push(`update ${at(old)}->${at(obj)}`),
      onDelete: (obj) =>
        lines.push(
          isTombstone(obj)
            ? `delete tombstone ${obj.key}@${obj.obj.metadata?.resourceVersion}`
            : `delete ${at(obj)}`,
        ),
    },
  };
}

interface Setup {
  clock: FakeClock;
  client: FakeRestClient;
  informer: SharedIndexInformer<Pod>;
  logs: LogLine[];
  controller: AbortController;
  run: () => Promise<void>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function setup(objects: Pod[], options: Partial<SharedInformerOptions<Pod>> = {}): Setup {
  const clock = new FakeClock();
  const client = new FakeRestClient();
  client.objects = objects;
  client.resourceVersion = '10';
  const { logger, lines: logs } = captureLogs();
  const informer = new SharedIndexInformer<Pod>({
    client,
    resource: PODS,
    namespace: 'ns',
    clock,
    logger,
    random: () => 0,
    ...options,
  });
  const controller = new AbortController();
  let done: Promise<void> | undefined;
  stops.push(async () => {
    controller.abort();
    await done;
  });
  return {
    clock,
    client,
    informer,
    logs,
    controller,
    run: async () => {
      done = informer.run(controller.signal);
      await flush();
    },
  };
}

describe('SharedIndexInformer', () => {
  it('delivers the initial list as adds and is synced only after every handler got them', async () => {
    const { informer, run } = setup([pod('a', '1'), pod('b', '2')]);
    const first = recorder();
    const second = recorder();
    let syncedDuringDelivery: boolean | undefined;
    const registration = informer.addEventHandler({
      ...first.handlers,
      onAdd: (obj, initial) => {
        first.handlers.onAdd?.(obj, initial);
        syncedDuringDelivery ??= informer.hasSynced();
      },
    });
    informer.addEventHandler(second.handlers);
    expect(informer.hasSynced()).toBe(false);
    await run();
    expect(first.lines).toEqual(['add a@1 initial', 'add b@2 initial']);
    expect(second.lines).toEqual(first.lines);
    expect(syncedDuringDelivery).toBe(false);
    expect(informer.hasSynced()).toBe(true);
    expect(registration.hasSynced()).toBe(true);
    expect(informer.lastSyncResourceVersion()).toBe('10');
  });

  it('hands each failed list to its list error handlers, then retries after the backoff', async () => {
    const { informer, client, clock, run } = setup([pod('a', '1')]);
    const serve = client.listHandler;
    let refuse = true;
    client.listHandler = (path, query) => {
      if (refuse)
        throw new ApiError(403, {
          kind: 'Status',
          code: 403,
          reason: 'Forbidden',
          message: 'pods is forbidden',
        });
      return serve(path, query);
    };
    const errors: unknown[] = [];
    informer.addListErrorHandler((err) => errors.push(err));
    informer.addListErrorHandler(() => {
      throw new Error('a throwing handler is logged, not fatal');
    });
    await run();
    expect(errors).toHaveLength(1);
    expect(isDenied(errors[0])).toBe(true);
    expect(informer.hasSynced()).toBe(false);
    refuse = false;
    clock.step(60_000);
    await flush();
    expect(informer.hasSynced()).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it('calls handlers after the store holds the change, in event order', async () => {
    const { informer, client, run } = setup([pod('a', '1')]);
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (obj) => seen.push(`add ${informer.store.get(objectKey(obj)) === obj}`),
      onUpdate: (_old, obj) => seen.push(`update ${informer.store.get(objectKey(obj)) === obj}`),
      onDelete: (obj) => seen.push(`delete ${informer.store.get(objectKey(obj)) === undefined}`),
    });
    await run();
    const watch = await client.nextWatch();
    watch.push('ADDED', pod('b', '11')).push('MODIFIED', pod('b', '12')).push('DELETED', pod('b', '13'));
    await flush();
    expect(seen).toEqual(['add true', 'add true', 'update true', 'delete true']);
    expect(informer.store.size).toBe(1);
  });

  it('turns a relist into adds, updates and tombstones for the deletes it missed', async () => {
    const { informer, client, run } = setup([pod('a', '1'), pod('b', '2'), pod('c', '3')]);
    const rec = recorder();
    informer.addEventHandler(rec.handlers);
    await run();
    const watch = await client.nextWatch();
    watch.push('MODIFIED', pod('c', '4'));
    await flush();
    // While the watch was down: b changed, c was deleted, d was created; a is unchanged.
    client.objects = [pod('a', '1'), pod('b', '5'), pod('d', '6')];
    client.resourceVersion = '20';
    watch.error({ kind: 'Status', code: 410, reason: 'Expired' });
    await flush();
    expect(rec.lines).toEqual([
      'add a@1 initial',
      'add b@2 initial',
      'add c@3 initial',
      'update c@3->c@4',
      'update b@2->b@5',
      'add d@6',
      // The tombstone carries the last state we saw, which may be stale.
      'delete tombstone ns/c@4',
    ]);
    expect([...informer.store.listKeys()].sort()).toEqual(['ns/a', 'ns/b', 'ns/d']);
    expect(informer.lastSyncResourceVersion()).toBe('20');
  });

  it('ignores a delete for a key it does not hold and treats an add of a known key as an update', async () => {
    const { informer, client, run } = setup([pod('a', '1')]);
    const rec = recorder();
    informer.addEventHandler(rec.handlers);
    await run();
    const watch = await client.nextWatch();
    watch.push('DELETED', pod('ghost', '11')).push('ADDED', pod('a', '12')).push('MODIFIED', pod('a', '12'));
    await flush();
    expect(rec.lines).toEqual(['add a@1 initial', 'update a@1->a@12']);
  });

  it('replays the cache to a handler added late, from a microtask, then live events', async () => {
    const { informer, client, run } = setup([pod('a', '1'), pod('b', '2')]);
    await run();
    const watch = await client.nextWatch();
    const rec = recorder();
    const registration = informer.addEventHandler(rec.handlers);
    expect(rec.lines).toEqual([]);
    expect(registration.hasSynced()).toBe(false);
    watch.push('ADDED', pod('c', '11'));
    await flush();
    expect(rec.lines).toEqual(['add a@1 initial', 'add b@2 initial', 'add c@11']);
    expect(registration.hasSynced()).toBe(true);
  });

  it('stops delivering to a removed handler', async () => {
    const { informer, client, run } = setup([pod('a', '1')]);
    const rec = recorder();
    const registration = informer.addEventHandler(rec.handlers);
    await run();
    registration.remove();
    (await client.nextWatch()).push('ADDED', pod('b', '11'));
    await flush();
    expect(rec.lines).toEqual(['add a@1 initial']);
  });

  it('isolates a throwing handler: others still get every event and the informer keeps running', async () => {
    const { informer, client, run, logs } = setup([pod('a', '1')]);
    const rec = recorder();
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
      onUpdate: () => {
        throw new Error('handler bug');
      },
    });
    informer.addEventHandler(rec.handlers);
    await run();
    const watch = await client.nextWatch();
    watch.push('ADDED', pod('b', '11')).push('MODIFIED', pod('b', '12'));
    await flush();
    expect(rec.lines).toEqual(['add a@1 initial', 'add b@11', 'update b@11->b@12']);
    expect(logs.filter((l) => l.msg === 'event handler threw')).toHaveLength(3);
    expect(informer.store.size).toBe(2);
    // One request all along: the watch-list stream that listed is the watch that went on.
    expect(client.calls.map((c) => c.verb)).toEqual(['watch']);
  });

  it('never awaits an async handler, and logs its rejection', async () => {
    const { informer, client, run, logs } = setup([pod('a', '1')]);
    const rec = recorder();
    informer.addEventHandler({
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- async handlers are what is tested
      onAdd: async () => new Promise<void>(() => undefined),
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- async handlers are what is tested
      onUpdate: () => Promise.reject(new Error('async bug')),
    });
    informer.addEventHandler(rec.handlers);
    await run();
    (await client.nextWatch()).push('ADDED', pod('b', '11')).push('MODIFIED', pod('b', '12'));
    await flush();
    expect(rec.lines).toEqual(['add a@1 initial', 'add b@11', 'update b@11->b@12']);
    expect(logs.filter((l) => l.msg === 'event handler rejected')).toHaveLength(1);
  });

  it('resyncs from the cache as onUpdate(obj, obj) per handler period, with no API call', async () => {
    const { informer, client, clock, run } = setup([pod('a', '1'), pod('b', '2')]);
    const resyncing = recorder();
    const quiet = recorder();
    informer.addEventHandler(resyncing.handlers, { resyncPeriodMs: 5_000 });
    informer.addEventHandler(quiet.handlers);
    await run();
    await client.nextWatch();
    const calls = client.calls.length;
    clock.step(4_999);
    expect(resyncing.lines).toHaveLength(2);
    clock.step(1);
    expect(resyncing.lines.slice(2)).toEqual(['update a@1->a@1', 'update b@2->b@2']);
    clock.step(5_000);
    expect(resyncing.lines).toHaveLength(6);
    expect(quiet.lines).toHaveLength(2);
    expect(client.calls.length).toBe(calls);
  });

  it('raises a resync period under 1 s to 1 s and uses the informer default otherwise', async () => {
    const { informer, client, clock, run, logs } = setup([pod('a', '1')], { resyncPeriodMs: 3_000 });
    const fast = recorder();
    const byDefault = recorder();
    informer.addEventHandler(fast.handlers, { resyncPeriodMs: 10 });
    informer.addEventHandler(byDefault.handlers);
    await run();
    await client.nextWatch();
    clock.step(999);
    expect(fast.lines).toHaveLength(1);
    clock.step(1);
    expect(fast.lines).toHaveLength(2);
    clock.step(2_000);
    expect(byDefault.lines).toEqual(['add a@1 initial', 'update a@1->a@1']);
    expect(logs.some((l) => String(l.msg).includes('raised to the minimum'))).toBe(true);
  });

  it('stores frozen objects without managedFields, with the kind list items lack', async () => {
    const listed = pod('a', '1');
    (listed.metadata as Record<string, unknown>).managedFields = [{ manager: 'kubectl' }];
    const { informer, client, run } = setup([listed]);
    await run();
    const cached = informer.store.get('ns/a');
    expect(cached).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    expect(cached?.metadata).not.toHaveProperty('managedFields');
    expect(Object.isFrozen(cached)).toBe(true);
    expect(Object.isFrozen(cached?.metadata)).toBe(true);
    expect(Object.isFrozen(cached?.spec?.containers?.[0])).toBe(true);
    expect(() => {
      (cached?.spec as { nodeName?: string }).nodeName = 'x';
    }).toThrow(TypeError);
    (await client.nextWatch()).push('ADDED', { ...pod('b', '11'), kind: 'Pod', apiVersion: 'v1' });
    await flush();
    expect(Object.isFrozen(informer.store.get('ns/b')?.spec)).toBe(true);
  });

  it('runs a custom transform instead of the default', async () => {
    const listed = pod('a', '1');
    (listed.metadata as Record<string, unknown>).managedFields = [{ manager: 'kubectl' }];
    const { informer, run } = setup([listed], {
      transform: (obj) => ({ ...obj, metadata: { ...obj.metadata, labels: { transformed: 'yes' } } }),
    });
    await run();
    expect(informer.store.get('ns/a')?.metadata).toMatchObject({ labels: { transformed: 'yes' } });
    expect(informer.store.get('ns/a')?.metadata).toHaveProperty('managedFields');
  });

  it('keeps custom indexes up to date with events', async () => {
    const onNode = (p: Pod): string[] => (p.spec?.nodeName ? [p.spec.nodeName] : []);
    const { informer, client, run } = setup([pod('a', '1', { spec: { nodeName: 'n1' } })], {
      indexers: { node: onNode },
    });
    await run();
    (await client.nextWatch()).push('MODIFIED', pod('a', '11', { spec: { nodeName: 'n2' } }));
    await flush();
    expect(informer.store.byIndex('node', 'n1')).toEqual([]);
    expect(informer.store.byIndex('node', 'n2').map((p) => p.metadata?.name)).toEqual(['a']);
    expect(informer.store.byIndex('namespace', 'ns')).toHaveLength(1);
  });

  it.each([true, false])(
    'asks for PartialObjectMetadata when metadata-only (watch-list %s), and trims full objects a server sends anyway',
    async (watchList) => {
      const full = { ...pod('rs', '1'), status: { replicas: 1 } };
      const { informer, client, run } = setup([full], {
        resource: REPLICASETS,
        metadataOnly: true,
        reflector: { watchList },
      });
      await run();
      const list = client.calls.find((c) => c.verb === 'list');
      const watches = client.calls.filter((c) => c.verb === 'watch');
      if (watchList) {
        expect(list).toBeUndefined();
        expect(watches).toMatchObject([
          { path: '/apis/apps/v1/namespaces/ns/replicasets', query: { sendInitialEvents: true } },
        ]);
      } else {
        expect(list).toMatchObject({
          path: '/apis/apps/v1/namespaces/ns/replicasets',
          accept: METADATA_LIST_ACCEPT,
        });
      }
      expect(watches.map((w) => w.accept)).toEqual([METADATA_WATCH_ACCEPT]);
      expect(METADATA_LIST_ACCEPT).toContain('as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
      expect(informer.store.get('ns/rs')).toEqual({
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: full.metadata,
      });
    },
  );

  it('counts lists by reason in informer_lists_total', async () => {
    const registry = new Registry();
    const { client, clock, run } = setup([pod('a', '1')], { registry });
    await run();
    (await client.nextWatch()).error({ kind: 'Status', code: 410 });
    await flush();
    // A 410 before any event waits out one backoff step before the relist.
    clock.step(800);
    await flush();
    const lists = metricSeries(await registry.metrics(), 'informer_lists_total');
    expect(lists.map((v) => [v.labels.reason, v.labels.method, v.value])).toEqual([
      ['initial', 'watchlist', 1],
      ['expired', 'watchlist', 1],
    ]);
  });

  it('runs once, and resolves run after abort', async () => {
    const { informer, client, run, controller, clock } = setup([pod('a', '1')]);
    informer.addEventHandler({}, { resyncPeriodMs: 1_000 });
    await run();
    const watch = await client.nextWatch();
    await expect(informer.run(new AbortController().signal)).rejects.toThrow(/already started/);
    controller.abort();
    await flush();
    expect(watch.closed).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });
});
