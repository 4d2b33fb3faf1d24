import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock, advance, captureLogs, flush, metricSum } from '../testing/index.ts';
import { ItemExponentialFailureRateLimiter } from '../queue/index.ts';
import { ApiError } from '../client/index.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import type { LeaderGate } from './leader-gate.ts';
import { TerminalError, type Reconciler } from './reconciler.ts';

function setup(reconcile: Reconciler, extra: Partial<ControllerOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const registry = new Registry();
  const { logger, lines } = captureLogs();
  const controller = new Controller({
    name: 'test',
    reconcile,
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000),
    clock,
    logger,
    registry,
    ...extra,
  });
  const stop = new AbortController();
  const running = controller.start(stop.signal);
  return { clock, registry, lines, controller, stop, running };
}

describe('Controller', () => {
  it('reconciles each key and forgets it on success', async () => {
    const seen: string[] = [];
    const { controller, registry, stop, running } = setup(
      (key) => {
        seen.push(key);
        return Promise.resolve(undefined);
      },
      { workers: 1 },
    );
    // The one worker takes ns/a at once; ns/b waits, and is pending only once however often added.
    controller.enqueue('ns/a');
    controller.enqueue('ns/b');
    controller.enqueue('ns/b');
    await flush();
    expect(seen).toEqual(['ns/a', 'ns/b']);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(
      metricSum(await registry.metrics(), 'controller_runtime_reconcile_total', { result: 'success' }),
    ).toBe(2);
    expect(
      metricSum(await registry.metrics(), 'controller_runtime_reconcile_total', { result: 'error' }),
    ).toBe(0);
    stop.abort();
    await running;
  });

  it('retries a failing key 5 times with growing delays, then drops it with an error log and a metric', async () => {
    const attempts: number[] = [];
    const { controller, clock, registry, lines, stop, running } = setup(() => {
      attempts.push(clock.now());
      return Promise.reject(new Error('owner missing'));
    });
    controller.enqueue('ns/broken');
    await advance(clock, 250);
    const delays = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(
      metricSum(await registry.metrics(), 'pod_sync_operator_dropped_keys_total', { controller: 'test' }),
    ).toBe(1);
    expect(metricSum(await registry.metrics(), 'controller_runtime_reconcile_errors_total')).toBe(6);
    expect(metricSum(await registry.metrics(), 'workqueue_retries_total', { name: 'test' })).toBe(5);

    const retries = lines.filter((l) => l.msg === 'sync failed, retrying');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.every((l) => l.controller === 'test' && l.key === 'ns/broken')).toBe(true);
    const dropped = lines.filter((l) => l.level === 50);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ key: 'ns/broken', retries: 5, err: { message: 'owner missing' } });
    expect(controller.queue.numRequeues('ns/broken')).toBe(0);

    // Dropped means dropped: no more attempts however long we wait.
    clock.step(10_000);
    await flush();
    expect(attempts).toHaveLength(6);
    stop.abort();
    await running;
  });

  it('treats a thrown non-Error as a failure, never a crash', async () => {
    let calls = 0;
    const { controller, clock, lines, stop, running } = setup(() => {
      calls++;
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'plain string';
    });
    controller.enqueue('k');
    await flush();
    clock.step(5);
    await flush();
    expect(calls).toBe(2);
    expect(lines.find((l) => l.msg === 'sync failed, retrying')).toMatchObject({
      err: { message: 'plain string' },
    });
    stop.abort();
    await running;
  });

  it('does not retry a TerminalError', async () => {
    let calls = 0;
    const { controller, clock, registry, stop, running } = setup(() => {
      calls++;
      return Promise.reject(new TerminalError('bad spec'));
    });
    controller.enqueue('k');
    await flush();
    clock.step(1000);
    await flush();
    expect(calls).toBe(1);
    expect(metricSum(await registry.metrics(), 'controller_runtime_terminal_reconcile_errors_total')).toBe(1);
    stop.abort();
    await running;
  });

  it('requeues after the delay a reconcile asks for, without counting a failure', async () => {
    const times: number[] = [];
    const { controller, clock, registry, stop, running } = setup(() => {
      times.push(clock.now());
      return Promise.resolve(times.length === 1 ? { requeueAfterMs: 300 } : undefined);
    });
    controller.enqueue('k');
    await flush();
    clock.step(299);
    await flush();
    expect(times).toHaveLength(1);
    clock.step(1);
    await flush();
    expect(times).toHaveLength(2);
    expect(controller.queue.numRequeues('k')).toBe(0);
    expect(
      metricSum(await registry.metrics(), 'controller_runtime_reconcile_total', { result: 'requeue_after' }),
    ).toBe(1);
    stop.abort();
    await running;
  });

  it('runs up to `workers` reconciles at once, never one key twice at once', async () => {
    const release = new Map<string, () => void>();
    const active = new Set<string>();
    let maxActive = 0;
    let overlap = false;
    const { controller, registry, stop, running } = setup(
      (key) =>
        new Promise((resolve) => {
          if (active.has(key)) overlap = true;
          active.add(key);
          maxActive = Math.max(maxActive, active.size);
          release.set(key, () => {
            active.delete(key);
            resolve(undefined);
          });
        }),
      { workers: 3 },
    );
    for (const key of ['a', 'b', 'c', 'd']) controller.enqueue(key);
    await flush();
    expect(active.size).toBe(3);
    expect(metricSum(await registry.metrics(), 'controller_runtime_active_workers')).toBe(3);
    expect(metricSum(await registry.metrics(), 'controller_runtime_max_concurrent_reconciles')).toBe(3);
    controller.enqueue('a'); // while a is in flight: queued again, handed out after done
    release.get('a')?.();
    await flush();
    expect([...active].sort()).toEqual(['b', 'c', 'd']);
    for (const key of ['b', 'c', 'd']) release.get(key)?.();
    await flush();
    expect([...active]).toEqual(['a']);
    release.get('a')?.();
    await flush();
    expect(overlap).toBe(false);
    expect(maxActive).toBe(3);
    stop.abort();
    await running;
  });

  it('drains in-flight reconciles on shutdown, and aborts them when the timeout passes', async () => {
    let finish: (() => void) | undefined;
    let reconcileSignal: AbortSignal | undefined;
    const { controller, clock, stop, running } = setup(
      (_key, signal) => {
        reconcileSignal = signal;
        return new Promise(
          (resolve) =>
            (finish = () => {
              resolve(undefined);
            }),
        );
      },
      { gracefulShutdownTimeoutMs: 1_000 },
    );
    controller.enqueue('slow');
    await flush();
    let done = false;
    void running.then(() => (done = true));
    stop.abort();
    await flush();
    controller.enqueue('late'); // no new work after shutdown began
    expect(done).toBe(false);
    expect(reconcileSignal?.aborted).toBe(false);
    clock.step(1_000);
    await flush();
    expect(reconcileSignal?.aborted).toBe(true);
    finish?.();
    await flush();
    expect(done).toBe(true);
  });

  it('requeues a failed key after the Retry-After its error carries, when longer than the limiter delay', async () => {
    const attempts: number[] = [];
    const { controller, clock, stop, running } = setup(() => {
      attempts.push(clock.now());
      return attempts.length === 1
        ? Promise.reject(new ApiError(429, 'Too many requests, please try again later.', 30))
        : Promise.resolve(undefined);
    });
    controller.enqueue('ns/throttled');
    await flush();
    clock.step(29_999);
    await flush();
    expect(attempts).toHaveLength(1);
    clock.step(1);
    await flush();
    expect(attempts.map((t) => t - (attempts[0] ?? 0))).toEqual([0, 30_000]);
    stop.abort();
    await running;
  });
});

/** A leader gate the test opens and closes; waiters wake on open(), as on a successful renewal. */
class FakeGate implements LeaderGate {
  leader = true;
  #waiters: (() => void)[] = [];
  checks = 0;

  isLeader(): boolean {
    this.checks++;
    return this.leader;
  }

  waitUntilLeader(signal: AbortSignal): Promise<void> {
    if (this.leader) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      signal.addEventListener('abort', () => {
        reject(signal.reason as Error);
      });
    });
  }

  open(): void {
    this.leader = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

describe('Controller behind a leader gate', () => {
  it('reconciles nothing while the gate is closed, and every held key once it opens', async () => {
    const gate = new FakeGate();
    gate.leader = false;
    const seen: string[] = [];
    const { controller, stop, running } = setup(
      (key) => {
        seen.push(key);
        return Promise.resolve(undefined);
      },
      { leaderGate: gate, workers: 2 },
    );
    controller.enqueue('ns/a');
    controller.enqueue('ns/b');
    controller.enqueue('ns/c');
    await flush();
    expect(seen).toEqual([]);
    gate.open();
    await flush();
    expect(seen.sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    stop.abort();
    await running;
  });

  it('checks the gate right before each reconcile, so a gate that closes meanwhile holds the next key', async () => {
    const gate = new FakeGate();
    const seen: string[] = [];
    const { controller, stop, running } = setup(
      (key) => {
        seen.push(key);
        gate.leader = false; // e.g. the process froze during this sync and woke up stale
        return Promise.resolve(undefined);
      },
      { leaderGate: gate },
    );
    controller.enqueue('ns/a');
    controller.enqueue('ns/b');
    await flush();
    expect(seen).toEqual(['ns/a']);
    gate.open();
    await flush();
    expect(seen).toEqual(['ns/a', 'ns/b']);
    stop.abort();
    await running;
  });

  it('stops at once, with no drain, when stopped while not the leader: a lost Lease protects nothing', async () => {
    const gate = new FakeGate();
    let reconcileSignal: AbortSignal | undefined;
    const seen: string[] = [];
    const { controller, lines, stop, running } = setup(
      (key, signal) => {
        seen.push(key);
        reconcileSignal = signal;
        return new Promise(() => undefined); // an async reconcile that would run on
      },
      { leaderGate: gate, workers: 2, gracefulShutdownTimeoutMs: 30_000 },
    );
    controller.enqueue('ns/slow');
    await flush();
    controller.enqueue('ns/queued-1');
    controller.enqueue('ns/queued-2');
    gate.leader = false;
    await flush();
    let done = false;
    void running.then(() => (done = true));
    stop.abort(new Error('leader election lost'));
    await flush();
    expect(reconcileSignal?.aborted).toBe(true);
    expect(done).toBe(true);
    gate.open(); // too late: nothing more runs
    await flush();
    expect(seen).toEqual(['ns/slow']);
    expect(lines.some((l) => l.msg === 'stopping without drain: not the leader')).toBe(true);
  });

  it('drains as usual when stopped while still the leader', async () => {
    const gate = new FakeGate();
    let finish: (() => void) | undefined;
    const { controller, stop, running } = setup(
      () =>
        new Promise((resolve) => {
          finish = () => {
            resolve(undefined);
          };
        }),
      { leaderGate: gate, gracefulShutdownTimeoutMs: 1_000 },
    );
    controller.enqueue('ns/slow');
    await flush();
    let done = false;
    void running.then(() => (done = true));
    stop.abort();
    await flush();
    expect(done).toBe(false);
    finish?.();
    await flush();
    expect(done).toBe(true);
  });
});
