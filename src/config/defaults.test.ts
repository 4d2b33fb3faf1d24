// One default per knob: a component given nothing does what the command line does by default.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { anonymousConfig, KubeTransport } from '../client/index.ts';
import { advance, eventually, FakeClock, metricValue } from '../testing/index.ts';
import { Controller } from '../controllers/index.ts';
import { RateLimitingQueue } from '../queue/index.ts';
import { defaultControllerRateLimiter } from '../queue/index.ts';
import { parseCommandLine } from './flags.ts';
import type { Settings } from './settings.ts';

function defaults(): Settings {
  const parsed = parseCommandLine([]);
  if (parsed.action !== 'run') throw new Error('expected run');
  return parsed.settings;
}

describe('the defaults of the command line and of the components', () => {
  // The one place the documented values are written down (README flag table, deploy/ manifests): a
  // change of any of them is a change of contract. Elsewhere tests compare against the constants.
  it('are the documented values', () => {
    expect(defaults()).toMatchObject({
      namespace: '',
      labelSelector: '',
      workers: 2,
      maxRequeues: 5,
      retryBaseDelayMs: 1_000,
      retryMaxDelayMs: 1_000_000,
      resyncPeriodMs: 36_000_000,
      cacheSyncTimeoutMs: 120_000,
      metricsBindAddress: ':8080',
      metricsSecure: false,
      metricsCertDir: '',
      healthProbeBindAddress: ':8081',
      leaderElect: false,
      leaderElectionId: 'pod-sync-operator',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      gracefulShutdownTimeoutMs: 30_000,
      kubeApiQps: 50,
      kubeApiBurst: 100,
      logLevel: 'info',
      logFormat: 'auto',
    });
  });

  it('--workers: a Controller given no workers runs as many', async () => {
    const registry = new Registry();
    new Controller({ name: 'c', reconcile: () => Promise.resolve(undefined), registry });
    const text = await registry.metrics();
    expect(metricValue(text, 'controller_runtime_max_concurrent_reconciles')).toBe(defaults().workers);
  });

  it('--retry-base-delay and --retry-max-delay: the default limiter and queue retry alike', () => {
    const { retryBaseDelayMs, retryMaxDelayMs } = defaults();
    const limiter = defaultControllerRateLimiter<string>({ clock: new FakeClock() });
    expect(limiter.when('k')).toBe(retryBaseDelayMs);
    for (let i = 0; i < 40; i++) limiter.when('k');
    expect(limiter.when('k')).toBe(retryMaxDelayMs);

    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    queue.addRateLimited('k');
    clock.step(retryBaseDelayMs - 1);
    expect(queue.len()).toBe(0);
    clock.step(1);
    expect(queue.len()).toBe(1);
  });

  it('--max-requeues: a Controller given no limit drops a failing key after as many requeues', async () => {
    const clock = new FakeClock();
    const attempts: number[] = [];
    const controller = new Controller({
      name: 'c',
      reconcile: () => {
        attempts.push(clock.now());
        return Promise.reject(new Error('fails'));
      },
      clock,
    });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    controller.enqueue('k');
    await advance(clock, 100_000);
    expect(attempts).toHaveLength(1 + defaults().maxRequeues);
    stop.abort();
    await running;
  });

  it('--kube-api-qps and --kube-api-burst: a transport given no rate limit lets as many through, then paces', async () => {
    const { kubeApiQps, kubeApiBurst } = defaults();
    const server = createServer((_req, res) => res.end('{}'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const clock = new FakeClock(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = KubeTransport.fromConfig(anonymousConfig(base), { clock });
    try {
      let done = 0;
      const requests = Array.from({ length: kubeApiBurst + 1 }, async () => {
        await (await transport.request({ method: 'GET', path: '/' })).body.dump();
        done++;
      });
      await eventually(() => done >= kubeApiBurst, 5_000, 10);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(done).toBe(kubeApiBurst);
      clock.step(1_000 / kubeApiQps); // one token
      await Promise.all(requests);
    } finally {
      await transport.destroy();
      server.close();
    }
  });
});
