import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it, inject } from 'vitest';
import {
  credentialsFor,
  pemOf,
  TransportError,
  HttpRestClient,
  KubeTransport,
  type WatchEvent,
} from '../../src/client/index.ts';
import { adminRestConfig, createPod, namespaceWithPod } from '../helpers/cluster.ts';
import { eventually, captureLogs } from '../../src/testing/index.ts';

/** Small enough to act within a test, large enough that a busy 2-core machine does not miss a PING. */
const HEALTH = { readIdleMs: 500, pingTimeoutMs: 500 };

type Watch = AsyncIterator<WatchEvent<V1Pod>>;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Opens a watch of the namespace's pods; resolves once the first event (a pod the test made) came. */
async function openWatch(rest: HttpRestClient, namespace: string): Promise<Watch> {
  // Aborting, unlike return(), also ends a watch whose next() is still waiting.
  const controller = new AbortController();
  cleanups.push(() => {
    controller.abort();
    return Promise.resolve();
  });
  const watch = rest
    .watch<V1Pod>(`/api/v1/namespaces/${namespace}/pods`, { timeoutSeconds: 300 }, controller.signal)
    [Symbol.asyncIterator]();
  const first = await watch.next();
  expect(first.value).toMatchObject({ type: 'ADDED' });
  return watch;
}

async function addedName(watch: Watch): Promise<string | undefined> {
  const next = await watch.next();
  return next.done ? undefined : next.value.type === 'ERROR' ? 'ERROR' : next.value.object.metadata?.name;
}

interface Link {
  client: Socket;
  upstream: Socket;
  blackHoled: boolean;
}

/**
 * A TCP proxy to the API server. A black-holed link forwards nothing either way and closes nothing:
 * a silent network partition, as a dropped NAT entry or a vanished node leaves it.
 */
async function startProxy(target: URL): Promise<{ url: string; links: Link[] }> {
  const links: Link[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const link: Link = { client, upstream, blackHoled: false };
    links.push(link);
    client.on('data', (chunk) => link.blackHoled || upstream.write(chunk));
    upstream.on('data', (chunk) => link.blackHoled || client.write(chunk));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const link of links) link.client.destroy();
    server.close();
    await once(server, 'close');
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, links };
}

/** A transport to `server` with the admin kubeconfig's CA and credentials and the test's timings. */
function transportTo(server: string, logger: Logger): KubeTransport {
  const admin = adminRestConfig();
  const ca = pemOf(admin.tls.caFile, admin.tls.caData);
  if (!ca) throw new Error('admin kubeconfig has no CA');
  const transport = new KubeTransport({
    server,
    tls: { ca, rejectUnauthorized: true },
    credentials: credentialsFor(admin),
    options: { logger, http2Health: HEALTH },
  });
  cleanups.push(() => transport.destroy());
  return transport;
}

describe('KubeTransport over HTTP/2', () => {
  it('multiplexes 3 watches, a list and gets of a cold start on one h2 connection', async () => {
    const namespace = await namespaceWithPod('h2-one');
    const transport = KubeTransport.fromConfig(adminRestConfig());
    cleanups.push(() => transport.destroy());
    const rest = new HttpRestClient(transport);

    const [watches, list, ...gets] = await Promise.all([
      Promise.all([1, 2, 3].map(() => openWatch(rest, namespace))),
      rest.list<V1Pod>(`/api/v1/namespaces/${namespace}/pods`),
      rest.get<{ metadata: { name: string } }>(`/api/v1/namespaces/${namespace}`),
      rest.get<{ major: string }>('/version'),
      rest.get<{ metadata: { name: string } }>('/api/v1/namespaces/default'),
    ]);
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['first']);
    expect(gets).toMatchObject([
      { metadata: { name: namespace } },
      { major: '1' },
      { metadata: { name: 'default' } },
    ]);
    expect(transport.stats()).toMatchObject({ connected: 1, protocols: ['h2'] });

    await createPod(namespace, 'second');
    expect(await Promise.all(watches.map(addedName))).toEqual(['second', 'second', 'second']);
    expect(transport.stats()).toMatchObject({ connected: 1, protocols: ['h2'], running: 3 });
  });

  it('closes a silently dead connection: the watch fails with a TransportError and requests reconnect', async () => {
    const namespace = await namespaceWithPod('h2-dead');
    const proxy = await startProxy(new URL(inject('server')));
    const { logger, lines } = captureLogs('warn');
    const transport = transportTo(proxy.url, logger);
    const watch = await openWatch(new HttpRestClient(transport), namespace);
    expect(proxy.links).toHaveLength(1);

    const link = proxy.links[0] as Link;
    link.blackHoled = true;
    const started = performance.now();
    const failure = await Promise.race([
      watch.next().then(
        (next) => new Error(`the watch went on: ${JSON.stringify(next)}`),
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(resolve, 10_000, new Error('the watch still hangs after 10 s'))),
    ]);
    const elapsed = performance.now() - started;
    const unresponsive = `HTTP/2 connection to ${proxy.url} was unresponsive (no frame for 1 s)`;
    expect(failure).toBeInstanceOf(TransportError);
    expect((failure as Error).message).toContain(unresponsive);
    // 1 s of silence is the limit: much sooner would not be the health check; 5 s allows a busy machine.
    expect(elapsed).toBeGreaterThan(500);
    expect(elapsed).toBeLessThan(5_000);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: unresponsive })]);
    await eventually(() => Promise.resolve(link.client.destroyed), 2_000, 20);

    // Concurrent requests after the loss share one new connection, again over h2.
    const rest = new HttpRestClient(transport);
    const names = await Promise.all(
      [1, 2, 3].map(() => rest.get<{ metadata: { name: string } }>(`/api/v1/namespaces/${namespace}`)),
    );
    expect(names.map((n) => n.metadata.name)).toEqual([namespace, namespace, namespace]);
    expect(proxy.links).toHaveLength(2);
    expect(transport.stats()).toMatchObject({ connected: 1, protocols: ['h2'] });
  });

  it('keeps a healthy connection whose only watch stays quiet well past the silence limit', async () => {
    const namespace = await namespaceWithPod('h2-quiet');
    const proxy = await startProxy(new URL(inject('server')));
    const { logger, lines } = captureLogs('warn');
    const transport = transportTo(proxy.url, logger);
    const watch = await openWatch(new HttpRestClient(transport), namespace);

    await new Promise((resolve) => setTimeout(resolve, 3_000));

    expect(lines).toEqual([]);
    expect(proxy.links.map((l) => l.client.destroyed)).toEqual([false]);
    await createPod(namespace, 'later');
    expect(await addedName(watch)).toBe('later');
    expect(proxy.links).toHaveLength(1);
  });
});

describe('KubeTransport against a server without HTTP/2', () => {
  it('falls back to HTTP/1.1, one socket per concurrent request', async () => {
    const certDir = join(dirname(inject('kubeconfig')), 'certs');
    const cert = readFileSync(join(certDir, 'apiserver.crt'));
    const streams = new Set<ServerResponse>();
    let connections = 0;
    const server: HttpsServer = createHttpsServer(
      { cert, key: readFileSync(join(certDir, 'apiserver.key')), ALPNProtocols: ['http/1.1'] },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url === '/stream') {
          streams.add(res);
          res.write('{"type":"ADDED"}\n');
        } else {
          res.end('{"kind":"Status"}');
        }
      },
    );
    server.on('secureConnection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });
    const transport = new KubeTransport({
      server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      tls: { ca: cert, rejectUnauthorized: true },
      credentials: {
        credentials: () => Promise.resolve({ headers: {}, identity: undefined }),
        onUnauthorized: () => undefined,
      },
    });
    cleanups.push(() => transport.destroy());

    const [stream, plain] = await Promise.all([
      transport.request({ method: 'GET', path: '/stream', streaming: true }),
      transport.request({ method: 'GET', path: '/get' }),
    ]);
    expect(await plain.body.text()).toBe('{"kind":"Status"}');
    const [chunk] = (await once(stream.body, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('{"type":"ADDED"}\n');
    expect(connections).toBe(2);
    expect(transport.stats()).toMatchObject({ connected: 2, protocols: ['http/1.1', 'http/1.1'] });
    stream.body.destroy();
  });
});
