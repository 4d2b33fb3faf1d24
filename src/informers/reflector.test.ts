import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs, FakeClock, FakeRestClient, flush, type LogLine } from '../testing/index.ts';
import { ApiError, TransportError, WatchDecodeError } from '../client/index.ts';
import { listWatchFor } from './list-watch.ts';
import { Reflector, type ListReason, type ReflectorConfig } from './reflector.ts';
import { PODS, type KubeObject } from './types.ts';

const pod = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { namespace: 'ns', name, resourceVersion },
});

interface Setup {
  clock: FakeClock;
  client: FakeRestClient;
  reflector: Reflector<KubeObject>;
  /** What the store saw: "replace a,b @rv" and "ADDED a @rv". */
  sink: string[];
  lists: ListReason[];
  logs: LogLine[];
  controller: AbortController;
  done: Promise<void>;
}

const running: Setup[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.controller.abort();
    await s.done;
  }
});

function start(
  options: {
    random?: () => number;
    config?: Partial<ReflectorConfig>;
    objects?: KubeObject[];
    client?: (client: FakeRestClient) => void;
  } = {},
): Setup {
  const clock = new FakeClock();
  const client = new FakeRestClient();
  options.client?.(client);
  client.objects = options.objects ?? [pod('a', 'x1')];
  client.resourceVersion = 'x1';
  const sink: string[] = [];
  const lists: ListReason[] = [];
  const { logger, lines: logs } = captureLogs();
  const reflector = new Reflector<KubeObject>({
    listWatch: listWatchFor(client, PODS, { namespace: 'ns' }),
    store: {
      replace: (items, rv) => sink.push(`replace ${items.map((i) => i.metadata?.name).join(',')} @${rv}`),
      apply: (type, obj) => sink.push(`${type} ${obj.metadata?.name} @${obj.metadata?.resourceVersion}`),
    },
    prepare: (obj) => obj,
    clock,
    logger,
    random: options.random ?? (() => 0),
    // Paged lists unless a test asks for watch-lists: most tests here drive the list and watch apart.
    config: { watchList: false, ...options.config },
    onList: (reason) => lists.push(reason),
  });
  const controller = new AbortController();
  const done = reflector.run(controller.signal);
  const setup = { clock, client, reflector, sink, lists, logs, controller, done };
  running.push(setup);
  return setup;
}

describe('Reflector list', () => {
  it('lists in pages of 500 following continue tokens, as one replace', async () => {
    const objects = Array.from({ length: 1_200 }, (_, i) => pod(`p${i}`, 'x9'));
    const { client, sink } = start({ objects });
    await flush();
    expect(client.calls.filter((c) => c.verb === 'list').map((c) => c.query)).toEqual([
      { limit: 500 },
      { limit: 500, continue: '500' },
      { limit: 500, continue: '1000' },
    ]);
    expect(client.calls[0]?.path).toBe('/api/v1/namespaces/ns/pods');
    expect(sink).toHaveLength(1);
    expect(sink[0]?.split(',')).toHaveLength(1_200);
  });

  it('restarts the list from scratch when a continue token expires, unpaginated after three expiries', async () => {
    const { client, sink, lists } = start();
    let expiries = 0;
    client.listHandler = (_path, query) => {
      if (query.continue !== undefined) {
        if (expiries++ < 3) throw new ApiError(410, { kind: 'Status', code: 410, reason: 'Expired' });
        return { metadata: { resourceVersion: 'never' }, items: [] };
      }
      if (query.limit === undefined)
        return { metadata: { resourceVersion: 'r2' }, items: [pod('all', 'r2')] };
      return { metadata: { resourceVersion: 'r1', continue: 'next' }, items: [pod('first', 'r1')] };
    };
    await flush();
    expect(client.calls.filter((c) => c.verb === 'list').map((c) => c.query)).toEqual([
      { limit: 500 },
      { limit: 500, continue: 'next' },
      { limit: 500 },
      { limit: 500, continue: 'next' },
      { limit: 500 },
      { limit: 500, continue: 'next' },
      {},
    ]);
    expect(sink).toEqual(['replace all @r2']);
    expect(lists).toEqual(['initial']);
  });

  it('backs off after a failed list and lists again', async () => {
    const { client, clock, sink } = start();
    const ok = client.listHandler;
    client.listHandler = () => {
      client.listHandler = ok;
      throw new TransportError('connection refused');
    };
    await flush();
    expect(client.count('list')).toBe(1);
    clock.step(799);
    await flush();
    expect(client.count('list')).toBe(1);
    clock.step(1);
    await flush();
    expect(client.count('list')).toBe(2);
    expect(sink).toEqual(['replace a @x1']);
  });

  it('waits out a 429 list for Retry-After when it is longer than the backoff, then lists again', async () => {
    const { client, clock, sink } = start();
    const ok = client.listHandler;
    client.listHandler = () => {
      client.listHandler = ok;
      throw new ApiError(429, 'Too many requests, please try again later.', 30);
    };
    await flush();
    expect(client.count('list')).toBe(1);
    clock.step(29_999);
    await flush();
    expect(client.count('list')).toBe(1);
    clock.step(1);
    await flush();
    expect(client.count('list')).toBe(2);
    expect(sink).toEqual(['replace a @x1']);
  });

  it('logs a forbidden list at error with the server message naming verb and resource, and retries', async () => {
    const { client, clock, logs, sink } = start();
    const ok = client.listHandler;
    const message = 'pods is forbidden: User "system:serviceaccount:x:y" cannot list resource "pods"';
    client.listHandler = () => {
      client.listHandler = ok;
      throw new ApiError(403, { kind: 'Status', code: 403, reason: 'Forbidden', message });
    };
    await flush();
    const denied = logs.find((l) => l.msg === 'list failed: access denied');
    expect(denied?.level).toBe(50);
    expect((denied?.err as { message?: string } | undefined)?.message).toContain(
      'cannot list resource "pods"',
    );
    expect(sink).toEqual([]);
    clock.step(800);
    await flush();
    expect(sink).toEqual(['replace a @x1']);
  });
});

describe('Reflector watch', () => {
  it('watches from the list resourceVersion with bookmarks and a timeout in [300, 600) s', async () => {
    const low = start({ random: () => 0 });
    const high = start({ random: () => 0.999_999 });
    const [lowWatch, highWatch] = await Promise.all([low.client.nextWatch(), high.client.nextWatch()]);
    expect(lowWatch.query).toEqual({ resourceVersion: 'x1', allowWatchBookmarks: true, timeoutSeconds: 300 });
    expect(highWatch.query).toMatchObject({ timeoutSeconds: 599 });
  });

  it('applies events in order, and re-watches from the last resourceVersion when a watch ends', async () => {
    const { client, sink, reflector } = start();
    const first = await client.nextWatch();
    // Opaque versions: "x10" sorts before "x9" as a string and is not a number; neither matters.
    first.push('ADDED', pod('b', 'x9')).push('MODIFIED', pod('b', 'x10')).push('DELETED', pod('a', 'y'));
    first.end();
    const second = await client.nextWatch();
    expect(sink).toEqual(['replace a @x1', 'ADDED b @x9', 'MODIFIED b @x10', 'DELETED a @y']);
    expect(second.query).toMatchObject({ resourceVersion: 'y' });
    expect(reflector.lastSyncResourceVersion()).toBe('y');
    expect(client.count('list')).toBe(1);
  });

  it('moves only the resourceVersion on a bookmark', async () => {
    const { client, sink, reflector } = start();
    const first = await client.nextWatch();
    first.push('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: 'bm7' } });
    await flush();
    expect(reflector.lastSyncResourceVersion()).toBe('bm7');
    expect(sink).toEqual(['replace a @x1']);
    first.end();
    expect((await client.nextWatch()).query).toMatchObject({ resourceVersion: 'bm7' });
    expect(client.count('list')).toBe(1);
  });

  it('backs off before re-watching after a very short watch without events', async () => {
    const { client, clock } = start();
    (await client.nextWatch()).end();
    await flush();
    expect(client.count('watch')).toBe(1);
    clock.step(799);
    await flush();
    expect(client.count('watch')).toBe(1);
    clock.step(1);
    await flush();
    expect(client.count('watch')).toBe(2);
  });

  it('relists at once on HTTP 410 after progress, with 410 and a relist right after, after a backoff', async () => {
    const { client, clock, sink, lists } = start();
    const first = await client.nextWatch();
    first.push('ADDED', pod('b', 'x2'));
    first.end();
    client.watchFailures.push(new ApiError(410, { kind: 'Status', code: 410, reason: 'Gone' }));
    client.resourceVersion = 'x5';
    client.objects = [pod('a', 'x1'), pod('b', 'x2'), pod('c', 'x5')];
    await flush();
    expect(lists).toEqual(['initial', 'expired']);
    expect(sink.at(-1)).toBe('replace a,b,c @x5');
    expect((await client.nextWatch()).query).toMatchObject({ resourceVersion: 'x5' });

    // The watch ends at once (a very short watch: 800 ms backoff), then the next one answers 410
    // with no event since the list, so the relist waits for the next backoff step, 1600 ms.
    client.watchFailures.push(new ApiError(410, { kind: 'Status', code: 410 }));
    client.watches.at(-1)?.end();
    await flush();
    clock.step(800);
    await flush();
    expect(client.count('watch')).toBe(4);
    clock.step(1_599);
    await flush();
    expect(client.count('list')).toBe(2);
    clock.step(1);
    await flush();
    expect(client.count('list')).toBe(3);
    expect(lists).toEqual(['initial', 'expired', 'expired']);
  });

  it('relists on an in-stream ERROR event carrying 410', async () => {
    const { client, lists, logs } = start();
    const first = await client.nextWatch();
    first.push('ADDED', pod('b', 'x2'));
    first.error({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' });
    await flush();
    expect(first.closed).toBe(true);
    expect(lists).toEqual(['initial', 'expired']);
    expect(logs.some((l) => l.msg === 'resourceVersion expired: relisting')).toBe(true);
  });

  it('logs a malformed event, relists after the backoff, and keeps running', async () => {
    const { client, clock, lists, logs, done } = start();
    const first = await client.nextWatch();
    first.fail(new WatchDecodeError('malformed watch event: Unexpected token', '{"type":"ADDED","object":{'));
    await flush();
    const logged = logs.find((l) => l.msg === 'malformed watch event: relisting');
    expect(logged).toMatchObject({ level: 50, line: '{"type":"ADDED","object":{' });
    expect(client.count('list')).toBe(1);
    clock.step(800);
    await flush();
    expect(lists).toEqual(['initial', 'malformed']);
    expect(client.count('watch')).toBe(2);
    let settled = false;
    void done.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
  });

  it('backs off 800 ms doubling with jitter on connection failures, re-watching without a relist', async () => {
    const { client, clock } = start({ random: () => 0.5 });
    for (let i = 0; i < 3; i++) client.watchFailures.push(new TransportError('connect ECONNREFUSED'));
    const opensAt: number[] = [];
    await flush();
    expect(client.count('watch')).toBe(1);
    for (const delay of [1_200, 2_400, 4_800]) {
      const before = client.count('watch');
      clock.step(delay - 1);
      await flush();
      expect(client.count('watch')).toBe(before);
      clock.step(1);
      await flush();
      opensAt.push(clock.now());
      expect(client.count('watch')).toBe(before + 1);
    }
    expect(opensAt).toEqual([1_200, 3_600, 8_400]);
    expect(client.count('list')).toBe(1);
    expect(client.watches).toHaveLength(1);
    expect(client.watches[0]?.query).toMatchObject({ resourceVersion: 'x1' });

    // After more than 2 min without a failure the backoff starts over at 800 ms (jittered to 1200).
    client.watches[0]?.push('ADDED', pod('b', 'x2'));
    clock.step(121_000);
    await flush();
    client.watchFailures.push(new TransportError('connect ECONNREFUSED'));
    client.watches[0]?.fail(new TransportError('socket hang up'));
    await flush();
    const before = client.count('watch');
    clock.step(1_199);
    await flush();
    expect(client.count('watch')).toBe(before);
    clock.step(1);
    await flush();
    expect(client.count('watch')).toBe(before + 1);
  });

  it('backs off on 429 for at least Retry-After, then watches from the same version', async () => {
    const { client, clock } = start();
    client.watchFailures.push(new ApiError(429, { kind: 'Status', code: 429 }, 3));
    await flush();
    expect(client.count('watch')).toBe(1);
    clock.step(2_999);
    await flush();
    expect(client.count('watch')).toBe(1);
    clock.step(1);
    await flush();
    expect(client.count('watch')).toBe(2);
    expect(client.count('list')).toBe(1);
  });

  it('relists after a backoff when a watch is refused for another reason, at error when forbidden', async () => {
    const { client, clock, lists, logs } = start();
    client.watchFailures.push(new ApiError(403, { kind: 'Status', code: 403, reason: 'Forbidden' }));
    await flush();
    expect(logs.find((l) => l.msg === 'watch failed: access denied: relisting')?.level).toBe(50);
    clock.step(800);
    await flush();
    expect(lists).toEqual(['initial', 'error']);
  });

  it('drops a watch silent for timeoutSeconds plus 30 s and reopens it from the same version', async () => {
    const { client, clock, logs } = start();
    const first = await client.nextWatch();
    clock.step(200_000);
    first.push('ADDED', pod('b', 'x2'));
    await flush();
    // 300 s timeout + 30 s grace, counted from the last event.
    clock.step(329_999);
    await flush();
    expect(first.closed).toBe(false);
    clock.step(1);
    await flush();
    expect(first.closed).toBe(true);
    expect(logs.some((l) => String(l.msg).includes('presumed dead'))).toBe(true);
    const second = await client.nextWatch();
    expect(second.query).toMatchObject({ resourceVersion: 'x2' });
    expect(client.count('list')).toBe(1);
  });

  it('resolves run after the signal aborts, with the watch closed', async () => {
    const setup = start();
    const watch = await setup.client.nextWatch();
    setup.controller.abort();
    await setup.done;
    expect(watch.closed).toBe(true);
    expect(setup.clock.pendingTimers()).toBe(0);
    await expect(setup.reflector.run(new AbortController().signal)).rejects.toThrow(/already running/);
  });
});

describe('Reflector watch-list', () => {
  const streaming = { config: { watchList: true } };
  const endBookmark = (resourceVersion: string): KubeObject => ({
    metadata: { resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } },
  });

  it('lists through one consistent watch stream and goes on watching on it', async () => {
    const { client, sink, lists, reflector } = start({
      ...streaming,
      objects: [pod('a', 'x1'), pod('b', 'x1')],
    });
    const stream = await client.nextWatch();
    expect(stream.query).toEqual({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
    await flush();
    expect(sink).toEqual(['replace a,b @x1']);
    expect(lists).toEqual(['initial']);
    stream.push('MODIFIED', pod('a', 'x2'));
    await flush();
    expect(sink).toEqual(['replace a,b @x1', 'MODIFIED a @x2']);
    expect(reflector.lastSyncResourceVersion()).toBe('x2');
    stream.end();
    expect((await client.nextWatch()).query).toEqual({
      resourceVersion: 'x2',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
    expect(client.count('list')).toBe(0);
  });

  it('stores nothing until the initial-events-end bookmark, and applies what changed before it', async () => {
    const { client, sink, lists, reflector } = start({
      ...streaming,
      client: (c) => (c.streamInitialEvents = false),
    });
    const stream = await client.nextWatch();
    stream
      .push('ADDED', pod('a', 'x1'))
      .push('ADDED', pod('b', 'x2'))
      .push('ADDED', pod('c', 'x3'))
      .push('MODIFIED', pod('b', 'x4'))
      .push('DELETED', pod('c', 'x5'))
      .push('BOOKMARK', { metadata: { resourceVersion: 'x6' } });
    await flush();
    expect(sink).toEqual([]);
    expect(lists).toEqual([]);
    expect(reflector.lastSyncResourceVersion()).toBeUndefined();
    stream.push('BOOKMARK', endBookmark('x7'));
    await flush();
    expect(sink).toEqual(['replace a,b @x7']);
    expect(lists).toEqual(['initial']);
    expect(reflector.lastSyncResourceVersion()).toBe('x7');
  });

  it('falls back to a paged list at once where the server refuses watch-lists, and tries a stream at the next relist', async () => {
    const { client, sink, lists, logs } = start({
      ...streaming,
      client: (c) => (c.watchListSupported = false),
    });
    const watch = await client.nextWatch();
    expect(client.calls.map((c) => [c.verb, c.query.sendInitialEvents ?? c.query.limit])).toEqual([
      ['watch', true],
      ['list', 500],
      ['watch', undefined],
    ]);
    expect(watch.query).toMatchObject({ resourceVersion: 'x1' });
    expect(sink).toEqual(['replace a @x1']);
    expect(lists).toEqual(['initial']);
    expect(logs.some((l) => String(l.msg).includes('listing by pages'))).toBe(true);
    // Progress, then 410: the relist tries a stream first again.
    client.watchListSupported = true;
    watch.push('ADDED', pod('b', 'x2')).error({ kind: 'Status', code: 410, reason: 'Expired' });
    const stream = await client.nextWatch();
    expect(stream.query).toMatchObject({ sendInitialEvents: true });
    await flush();
    expect(lists).toEqual(['initial', 'expired']);
    expect(client.count('list')).toBe(1);
  });

  it('waits out a 429 watch-list for Retry-After, then streams again: a 429 means wait, not no streaming', async () => {
    const tooMany = new ApiError(429, 'Too many requests, please try again later.', 30);
    const { client, clock, sink, lists, logs } = start({
      ...streaming,
      client: (c) => c.watchFailures.push(tooMany),
    });
    await flush();
    expect(client.calls).toHaveLength(1);
    clock.step(29_999);
    await flush();
    expect(client.calls).toHaveLength(1);
    clock.step(1);
    const stream = await client.nextWatch();
    expect(client.calls.map((c) => c.verb)).toEqual(['watch', 'watch']);
    expect(stream.query).toMatchObject({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' });
    await flush();
    expect(sink).toEqual(['replace a @x1']);
    expect(lists).toEqual(['initial']);
    expect(client.count('list')).toBe(0);
    const refused = logs.find((l) => String(l.msg).includes('watch-list refused'));
    expect(refused).toMatchObject({ level: 40, delayMs: 30_000 });
  });

  it('waits the longer backoff when Retry-After is shorter, and streams again after an in-stream 429', async () => {
    const { client, clock, lists } = start({
      ...streaming,
      client: (c) => (c.streamInitialEvents = false),
      random: () => 0.5,
    });
    (await client.nextWatch())
      .push('ADDED', pod('half', 'x1'))
      .error({ kind: 'Status', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    await flush();
    // Backoff 800 ms × (1 + 0.5 × 1.0) = 1,200 ms: longer than the 1 s asked for.
    clock.step(1_199);
    await flush();
    expect(client.count('watch')).toBe(1);
    clock.step(1);
    const again = await client.nextWatch();
    expect(again.query).toMatchObject({ sendInitialEvents: true });
    expect(client.count('list')).toBe(0);
    expect(lists).toEqual([]);
  });

  it('waits out a 503 watch-list that names a Retry-After instead of listing by pages', async () => {
    const { client, clock } = start({
      ...streaming,
      client: (c) => c.watchFailures.push(new ApiError(503, 'overloaded', 5)),
    });
    await flush();
    clock.step(4_999);
    await flush();
    expect(client.calls).toHaveLength(1);
    clock.step(1);
    expect((await client.nextWatch()).query).toMatchObject({ sendInitialEvents: true });
    expect(client.count('list')).toBe(0);
  });

  it('still lists by pages at once after a 400, even one that names a Retry-After', async () => {
    const { client } = start({
      ...streaming,
      client: (c) => c.watchFailures.push(new ApiError(400, 'sendInitialEvents is forbidden', 5)),
    });
    await client.nextWatch();
    expect(client.calls.map((c) => c.verb)).toEqual(['watch', 'list', 'watch']);
  });

  it('replaces nothing when the stream breaks before its end, and lists by pages instead', async () => {
    const { client, sink, lists } = start({ ...streaming, client: (c) => (c.streamInitialEvents = false) });
    const stream = await client.nextWatch();
    stream.push('ADDED', pod('half', 'x1'));
    stream.fail(new TransportError('connection reset'));
    const watch = await client.nextWatch();
    expect(sink).toEqual(['replace a @x1']);
    expect(lists).toEqual(['initial']);
    expect(client.count('list')).toBe(1);
    expect(watch.query).toMatchObject({ resourceVersion: 'x1' });
  });

  it('treats a stream closed before its end like a failed list', async () => {
    const { client, sink } = start({ ...streaming, client: (c) => (c.streamInitialEvents = false) });
    (await client.nextWatch()).push('ADDED', pod('half', 'x1')).end();
    await client.nextWatch();
    expect(sink).toEqual(['replace a @x1']);
    expect(client.count('list')).toBe(1);
  });

  it('fails the cache sync while the stream is denied and the paged list too, then heals', async () => {
    const denied = new ApiError(403, {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "x" cannot watch resource "pods"',
    });
    const { client, sink, clock, logs } = start({
      ...streaming,
      client: (c) => {
        c.watchFailures.push(denied);
        c.listHandler = () => {
          throw denied;
        };
      },
    });
    await flush();
    expect(sink).toEqual([]);
    expect(logs.filter((l) => l.msg === 'list failed: access denied')).toHaveLength(1);
    client.listHandler = () => ({ metadata: { resourceVersion: 'x1' }, items: [pod('a', 'x1')] });
    clock.step(800);
    await flush();
    expect(sink).toEqual(['replace a @x1']);
  });
});
