import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../clock/fake-clock.ts';
import { credentialsFor } from './credentials.ts';
import { ApiError, ResponseDecodeError, TransportError, WatchDecodeError } from './errors.ts';
import { HttpRestClient, withQuery } from './rest-client.ts';
import { anonymousConfig } from './rest-config.ts';
import { KubeTransport, type TransportOptions } from './transport.ts';

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** A stand-in API server on loopback: routes by path, records requests and connections. */
class LocalServer {
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] =
    [];
  connections = 0;
  readonly routes = new Map<string, Route>();
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://local');
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const route = this.routes.get(url.pathname);
        if (route) route(req, res, url);
        else
          json(res, 404, {
            kind: 'Status',
            code: 404,
            reason: 'NotFound',
            message: `${url.pathname} not found`,
          });
      });
    });
    this.#server.on('connection', () => this.connections++);
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * A client of the local (plain http) server that still sends a token, to see credentials travel:
 * built on the transport directly, since fromConfig sends none to an http server.
 */
function clientFor(server: string, options: TransportOptions = {}): HttpRestClient {
  const credentials = credentialsFor({ ...anonymousConfig('https://unused'), bearerToken: 't0k' });
  return new HttpRestClient(
    new KubeTransport({ server, tls: { rejectUnauthorized: true }, credentials, options }),
    true,
  );
}

async function consume(events: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const pod = (name: string) => ({ metadata: { namespace: 'ns', name, resourceVersion: '1' } });

describe('HttpRestClient over a local server', () => {
  const server = new LocalServer();
  const registry = new Registry();
  let base: string;
  let client: HttpRestClient;

  beforeAll(async () => {
    base = await server.listen();
    client = clientFor(base, { registry });
    server.routes.set('/api/v1/namespaces/ns/pods', (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '7' }, items: [pod('a')] });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: pod('a') })}\n`);
      setTimeout(() => {
        res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })}\n`,
        );
        if (url.searchParams.get('labelSelector') === 'bad')
          res.write('{"type":"MODIFIED","object":{"metad\n');
        if (url.searchParams.get('labelSelector') !== 'hang') res.end();
      }, 20);
    });
    server.routes.set('/api/v1/namespaces/empty/pods', (_req, res) => {
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '1' }, items: null });
    });
    server.routes.set('/busy', (_req, res) => {
      res.writeHead(503, { 'retry-after': '5' }).end('overloaded');
    });
    server.routes.set('/not-json', (_req, res) => {
      res.writeHead(200).end('hello');
    });
    server.routes.set('/cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"items":');
      setTimeout(() => res.socket?.destroy(), 10);
    });
  });
  afterAll(async () => {
    await client.transport.destroy();
    await server.close();
  });

  it('lists with the bearer token, a JSON accept header and our user agent', async () => {
    const list = await client.list(`/api/v1/namespaces/ns/pods`, { limit: 500, continue: undefined });
    expect(list).toMatchObject({ metadata: { resourceVersion: '7' }, items: [pod('a')] });
    const request = server.requests.at(-1);
    expect(request?.url).toBe('/api/v1/namespaces/ns/pods?limit=500');
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer t0k',
      accept: 'application/json',
      'user-agent': 'pod-sync-operator',
    });
    expect(await client.list('/api/v1/namespaces/empty/pods')).toMatchObject({ items: [] });
  });

  it('sends the accept header asked for', async () => {
    await client.get('/api/v1/namespaces/ns/pods', {}, undefined, { accept: 'application/json;as=Table' });
    expect(server.requests.at(-1)?.headers.accept).toBe('application/json;as=Table');
  });

  it('throws ApiError with the code, reason and body of an error status', async () => {
    const notFound = await client.get('/api/v1/namespaces/ns/pods/missing').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ApiError);
    expect(notFound).toMatchObject({ code: 404, reason: 'NotFound', body: { kind: 'Status', code: 404 } });
    const busy = await client.get('/busy').catch((e: unknown) => e);
    expect(busy).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
      body: 'overloaded',
      retryAfterSeconds: 5,
    });
    await expect(client.get('/not-json')).rejects.toBeInstanceOf(ResponseDecodeError);
    await expect(client.get('/cut')).rejects.toBeInstanceOf(TransportError);
  });

  it('streams watch events until the server ends the response', async () => {
    const events = [];
    for await (const event of client.watch('/api/v1/namespaces/ns/pods', { resourceVersion: '7' }))
      events.push(event);
    expect(events).toEqual([
      { type: 'ADDED', object: pod('a') },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } },
    ]);
    expect(server.requests.at(-1)?.url).toBe('/api/v1/namespaces/ns/pods?resourceVersion=7&watch=true');
  });

  it('surfaces a malformed watch line as WatchDecodeError after the events before it', async () => {
    const types: string[] = [];
    const err = await (async () => {
      for await (const event of client.watch('/api/v1/namespaces/ns/pods', { labelSelector: 'bad' }))
        types.push(event.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchDecodeError);
    expect(types).toEqual(['ADDED', 'BOOKMARK']);
  });

  it('closes a watch when its signal aborts, rejecting with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const types: string[] = [];
    const err = await (async () => {
      for await (const event of client.watch(
        '/api/v1/namespaces/ns/pods',
        { labelSelector: 'hang' },
        controller.signal,
      )) {
        types.push(event.type);
        if (event.type === 'BOOKMARK') controller.abort(reason);
      }
    })().catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(types).toEqual(['ADDED', 'BOOKMARK']);
  });

  it('throws ApiError when a watch is refused', async () => {
    const err = await consume(client.watch('/api/v1/namespaces/none/pods')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 404 });
  });

  it('reuses one kept-alive connection for sequential requests', async () => {
    const before = server.connections;
    for (let i = 0; i < 10; i++) await client.list('/api/v1/namespaces/ns/pods');
    expect(server.connections - before).toBeLessThanOrEqual(1);
  });

  it('counts every request by code, method and host:port in the registry it was given', async () => {
    const host = new URL(base).host;
    await client.get('/busy').catch(() => undefined);
    const values = (await registry.getSingleMetric('rest_client_requests_total')?.get())?.values ?? [];
    const count = (code: string) =>
      values.find((v) => v.labels.code === code && v.labels.method === 'GET' && v.labels.host === host)
        ?.value;
    expect(count('200')).toBeGreaterThan(5);
    expect(count('404')).toBeGreaterThanOrEqual(2);
    expect(count('503')).toBeGreaterThanOrEqual(2);
    expect(register.getSingleMetric('rest_client_requests_total')).toBeUndefined();
  });

  it('posts and puts JSON bodies, decodes the answer, and throws ApiError on an error status', async () => {
    const lease = (rv: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', resourceVersion: rv },
    });
    server.routes.set('/apis/coordination.k8s.io/v1/namespaces/ns/leases', (req, res) => {
      if (req.method === 'POST') json(res, 201, lease('1'));
      else json(res, 405, {});
    });
    server.routes.set('/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', (req, res) => {
      if (req.method !== 'PUT') {
        json(res, 405, {});
        return;
      }
      json(res, 409, {
        kind: 'Status',
        code: 409,
        reason: 'Conflict',
        message:
          'Operation cannot be fulfilled on leases.coordination.k8s.io "l": the object has been modified',
      });
    });
    const created = await client.post<{ metadata: { resourceVersion: string } }>(
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases',
      { metadata: { name: 'l' } },
    );
    expect(created.metadata.resourceVersion).toBe('1');
    const post = server.requests.at(-1);
    expect(post).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t0k' },
    });
    expect(JSON.parse(post?.body ?? '{}')).toEqual({ metadata: { name: 'l' } });

    const err = await client
      .put('/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', lease('0'), { fieldManager: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(server.requests.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fieldManager=x',
    });
    const values = (await registry.getSingleMetric('rest_client_requests_total')?.get())?.values ?? [];
    expect(values.some((v) => v.labels.method === 'POST' && v.labels.code === '201')).toBe(true);
    expect(values.some((v) => v.labels.method === 'PUT' && v.labels.code === '409')).toBe(true);
  });

  it('keeps the path prefix of the kubeconfig server', async () => {
    const prefixed = new HttpRestClient(KubeTransport.fromConfig(anonymousConfig(`${base}/k8s/clusters/c1`)));
    await prefixed.get('/version').catch(() => undefined);
    expect(server.requests.at(-1)?.url).toBe('/k8s/clusters/c1/version');
    await prefixed.transport.destroy();
  });
});

describe('HttpRestClient transport failures', () => {
  it('throws TransportError and counts "<error>" when nothing listens', async () => {
    const idle = new LocalServer();
    const base = await idle.listen();
    await idle.close();
    const registry = new Registry();
    const client = clientFor(base, { registry });
    await expect(client.get('/api')).rejects.toBeInstanceOf(TransportError);
    const err = await consume(client.watch('/api/v1/pods')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    const values = (await registry.getSingleMetric('rest_client_requests_total')?.get())?.values;
    expect(values).toEqual([
      { value: 2, labels: { code: '<error>', method: 'GET', host: new URL(base).host } },
    ]);
    await client.close();
    await expect(client.get('/api')).rejects.toThrow(/closed/);
  });

  it('speaks plain HTTP/1.1 to an http server and sends it no credentials, as client-go does', async () => {
    const plain = new LocalServer();
    plain.routes.set('/version', (_req, res) => {
      json(res, 200, { major: '1' });
    });
    const base = await plain.listen();
    const config = { ...anonymousConfig(base), bearerToken: 'secret', username: 'u', password: 'p' };
    const client = HttpRestClient.fromConfig(config);
    try {
      expect(await client.get('/version')).toEqual({ major: '1' });
      expect(plain.requests.at(-1)?.headers.authorization).toBeUndefined();
      expect(client.transport.stats().protocols).toEqual(['http/1.1']);
    } finally {
      await client.close();
      await plain.close();
    }
  });
});

describe('withQuery', () => {
  it('encodes values and skips undefined ones', () => {
    expect(withQuery('/p', { a: 'x y', b: undefined, c: true, d: 5 })).toBe('/p?a=x+y&c=true&d=5');
    expect(withQuery('/p?x=1', { y: 2 })).toBe('/p?x=1&y=2');
    expect(withQuery('/p', { b: undefined })).toBe('/p');
  });
});

describe('client-side rate limit', () => {
  it('lets a burst through, then paces requests at qps on the injected clock', async () => {
    const server = new LocalServer();
    server.routes.set('/api/v1/namespaces/ns/pods', (_req, res) => {
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] });
    });
    const base = await server.listen();
    const clock = new FakeClock(0);
    const client = clientFor(base, {
      clock,
      rateLimit: { qps: 2, burst: 3 },
    });
    try {
      const done: number[] = [];
      const requests = Array.from({ length: 5 }, (_, i) =>
        client.list('/api/v1/namespaces/ns/pods').then(() => done.push(i)),
      );
      await waitUntil(() => done.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(done).toHaveLength(3); // the burst
      clock.step(499);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(done).toHaveLength(3);
      clock.step(1); // 1/qps = 500 ms per token
      await waitUntil(() => done.length === 4);
      clock.step(500);
      await Promise.all(requests);
      expect(server.requests).toHaveLength(5);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
