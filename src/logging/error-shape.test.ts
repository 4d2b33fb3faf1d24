// One log shape for errors: a failure provoked in each component, logged through the operator's own
// logger (createLogger, JSON), carries `err` as pino's error serializer writes it, so that a query on
// err.message (or err.type) finds it whatever the component.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionHealth } from '../client/index.ts';
import { ApiError } from '../client/index.ts';
import { ExecAuthenticator } from '../client/index.ts';
import { captureLogs, FakeClock, FakeRestClient, flush, type LogLine } from '../testing/index.ts';
import { Controller } from '../controllers/index.ts';
import { OWNER_RESOURCES } from '../controllers/pod-sync/index.ts';
import { OwnerCaches } from '../controllers/pod-sync/index.ts';
import { SharedInformerFactory } from '../informers/index.ts';
import { PODS } from '../informers/index.ts';
import { FakeLeaseClient } from '../testing/index.ts';
import { LeaderElector } from '../leaderelection/index.ts';
import { LeaseLock } from '../leaderelection/index.ts';
import { HeapBudget } from '../memory/index.ts';
import type { HeapReading } from '../memory/index.ts';
import { withAuthenticationAndAuthorization } from '../server/index.ts';
import { CertificateWatcher } from '../server/index.ts';
import { generateSelfSignedCertKey } from '../server/index.ts';
import { createLogger, type LogLevel } from './logger.ts';

/** Lines as the operator writes them: createLogger's JSON, with its error serializer. */
function productionLogger(): ReturnType<typeof captureLogs> {
  return captureLogs('debug', (level, destination) =>
    createLogger({ level: level as LogLevel, format: 'json', destination }),
  );
}

/** The line `msg` names carries err as pino's serializer writes it, its message containing `text`. */
function expectErr(lines: LogLine[], msg: string, text: string): void {
  const line = lines.find((l) => l.msg === msg);
  expect(line, `no line "${msg}" in ${JSON.stringify(lines.map((l) => l.msg))}`).toBeDefined();
  const err = line?.err as { type?: unknown; message?: unknown; stack?: unknown } | undefined;
  // An Error's class, not the "Object" pino names a plain { message } after.
  expect(err?.type, 'err.type').toMatch(/Error$/);
  expect(typeof err?.message, 'err.message').toBe('string');
  expect(err?.message).toContain(text);
  expect(err?.stack, 'err.stack').toMatch(/\n\s+at /);
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('every component logs a failure with err.message', () => {
  it('client/transport: an HTTP/2 connection that went silent', () => {
    const { logger, lines } = productionLogger();
    const clock = new FakeClock();
    const health = new ConnectionHealth({
      server: 'https://10.0.0.1:6443',
      clock,
      log: logger,
      health: { readIdleMs: 1_000, pingTimeoutMs: 1_000 },
    });
    health.track({ alpnProtocol: 'h2', bytesRead: 0, destroyed: false, destroy: () => undefined });
    clock.step(5_000);
    const msg = 'HTTP/2 connection to https://10.0.0.1:6443 was unresponsive (no frame for 2 s)';
    expectErr(lines, msg, 'was unresponsive');
  });

  it('client/exec plugin: a plugin that fails when credentials are refreshed after a 401', async () => {
    const { logger, lines } = productionLogger();
    const dir = mkdtempSync(join(tmpdir(), 'exec-fails-'));
    const script = join(dir, 'plugin.mjs');
    writeFileSync(
      script,
      `import { existsSync, writeFileSync } from 'node:fs';
const flag = ${JSON.stringify(join(dir, 'ran'))};
if (existsSync(flag)) process.exit(3);
writeFileSync(flag, '');
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 't' } }));`,
    );
    const auth = new ExecAuthenticator(
      {
        command: process.execPath,
        args: [script],
        env: [],
        apiVersion: 'client.authentication.k8s.io/v1',
        installHint: '',
        provideClusterInfo: false,
        interactiveMode: 'Never',
        config: null,
      },
      undefined,
      { logger, environ: { PATH: process.env.PATH } },
    );
    await auth.refreshAfterUnauthorized(await auth.credential());
    expectErr(lines, 'refreshing credentials after a 401', 'failed with exit code 3');
  });

  it('reflector/informer: a list the API server refuses', async () => {
    const { logger, lines } = productionLogger();
    const client = new FakeRestClient();
    const forbidden = new ApiError(403, {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "x" cannot list resource "pods"',
    });
    client.listHandler = () => Promise.reject(forbidden);
    const factory = new SharedInformerFactory({ client, logger, clock: new FakeClock() });
    factory.informerFor(PODS);
    const stop = new AbortController();
    factory.start(stop.signal);
    cleanups.push(() => factory.shutdown());
    await flush();
    expectErr(lines, 'list failed: access denied', 'cannot list resource "pods"');
    expect(lines.find((l) => l.msg === 'list failed: access denied')?.err).toMatchObject({
      type: 'ApiError',
      code: 403,
      reason: 'Forbidden',
    });
  });

  it('controller/sync: a reconcile that fails, and one that throws a non-Error', async () => {
    const { logger, lines } = productionLogger();
    const clock = new FakeClock();
    const controller = new Controller({
      name: 'c',
      reconcile: (key) =>
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        key === 'plain' ? Promise.reject('a plain string') : Promise.reject(new Error('owner missing')),
      clock,
      logger,
    });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    controller.enqueue('k');
    await flush();
    expectErr(lines, 'sync failed, retrying', 'owner missing');
    controller.enqueue('plain');
    await flush();
    expect(lines.filter((l) => l.msg === 'sync failed, retrying').at(-1)?.err).toMatchObject({
      type: 'Error',
      message: 'a plain string',
    });
    stop.abort();
    await running;
  });

  it('leader election: a Lease the API server refuses, then leadership lost', async () => {
    const { logger, lines } = productionLogger();
    const clock = new FakeClock();
    const api = new FakeLeaseClient();
    const lock = new LeaseLock({ client: api, namespace: 'ns', name: 'lock', identity: 'a' });
    api.hook = (op) => {
      if (op === 'get') throw new ApiError(503, 'etcd is unavailable');
    };
    const elector = new LeaderElector({
      lock,
      clock,
      wallClock: () => new Date(clock.now()),
      random: () => 0,
      logger,
      callbacks: { onStartedLeading: () => undefined },
    });
    const stop = new AbortController();
    const running = elector.run(stop.signal);
    await flush();
    expectErr(lines, 'error retrieving lease', 'etcd is unavailable');
    api.hook = undefined;
    for (let t = 0; t < 5_000; t += 100) {
      clock.step(100);
      await flush();
    }
    expect(elector.isLeader()).toBe(true);
    const lease = api.peek('ns', 'lock');
    if (!lease) throw new Error('no lease');
    api.put({ ...lease, spec: { ...lease.spec, holderIdentity: 'b' } });
    for (let t = 0; t < 5_000; t += 100) {
      clock.step(100);
      await flush();
    }
    expect((await running).reason).toBe('lost');
    expectErr(lines, 'leader election lost', 'is now held by b');
  });

  it('clientcmd/start-up: a kubeconfig that cannot be used, logged by the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-kubeconfig-'));
    const path = join(dir, 'config');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n');
    const main = join(import.meta.dirname, '..', 'main.ts');
    const run = promisify(execFile)(process.execPath, [
      main,
      `--kubeconfig=${path}`,
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
    ]);
    const { stdout, code } = await run.then(
      (r) => ({ stdout: r.stdout, code: 0 }),
      (err: unknown) => err as { stdout: string; code: number },
    );
    expect(code).toBe(2);
    expectErr(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LogLine),
      'start-up failed',
      path,
    );
  });

  it('owner caches/discovery: a lookup that fails', async () => {
    const { logger, lines } = productionLogger();
    const clock = new FakeClock();
    const owners = new OwnerCaches({
      factory: new SharedInformerFactory({ client: new FakeRestClient(), clock }),
      mapper: { restMapping: () => Promise.reject(new Error('discovery: HTTP 503: unavailable')) },
      ownerResources: OWNER_RESOURCES,
      clock,
      logger,
      onOwnerChanged: () => undefined,
      onKindChanged: () => undefined,
      onKindListed: () => undefined,
    });
    cleanups.push(() => {
      owners.close();
    });
    owners.demand({ apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    await flush();
    expectErr(lines, 'discovery failed', 'HTTP 503: unavailable');
  });

  it('secure metrics filter: a TokenReview that cannot be made', async () => {
    const { logger, lines } = productionLogger();
    const server = createServer(
      withAuthenticationAndAuthorization((_req, res) => res.end('metrics\n'), {
        authenticator: {
          authenticateRequest: () =>
            Promise.reject(new Error('tokenreviews.authentication.k8s.io is forbidden')),
        },
        authorizer: { authorize: () => Promise.resolve({ allowed: true, reason: '' }) },
        logger,
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer t' } });
    expect(res.status).toBe(500);
    expectErr(lines, 'Authentication failed', 'tokenreviews.authentication.k8s.io is forbidden');
  });

  it('secure metrics certificate: a pair that cannot be read again', async () => {
    const { logger, lines } = productionLogger();
    const dir = mkdtempSync(join(tmpdir(), 'cert-'));
    const pair = await generateSelfSignedCertKey();
    writeFileSync(join(dir, 'tls.crt'), pair.cert);
    writeFileSync(join(dir, 'tls.key'), pair.key);
    const watcher = new CertificateWatcher({
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      clock: new FakeClock(),
      logger,
      onChange: () => undefined,
    });
    writeFileSync(join(dir, 'tls.crt'), 'not a certificate');
    expect(watcher.readCertificate()).toBe(false);
    expectErr(lines, 'failed to read certificate', '');
  });

  it('heap budget: a heap exhausted by the pods cached', () => {
    const { logger, lines } = productionLogger();
    const MIB = 2 ** 20;
    let listener: ((r: HeapReading) => void) | undefined;
    const budget = new HeapBudget({
      source: {
        onFullGc: (l) => {
          listener = l;
          return () => (listener = undefined);
        },
        current: () => ({ oldBytes: 20 * MIB, oldLimitBytes: 64 * MIB }),
        memoryLimitBytes: () => undefined,
      },
      cachedPods: () => 1_000,
      hasSynced: () => true,
      logger,
      onExhausted: () => undefined,
    });
    const stop = new AbortController();
    void budget.start(stop.signal);
    listener?.({ oldBytes: 60 * MIB, oldLimitBytes: 64 * MIB });
    stop.abort();
    const fatal = lines.find((l) => l.level === 60);
    expectErr(lines, fatal?.msg ?? '', 'heap exhausted: 60 MiB live at a 64 MiB old-generation limit');
    expect(fatal?.err).toMatchObject({ type: 'HeapBudgetError' });
  });
});
