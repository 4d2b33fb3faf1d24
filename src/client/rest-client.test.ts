import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, register } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FakeClock, metricSeries, metricValue } from '../testing/index.ts';
import { credentialsFor } from './credentials.ts';
import { ApiError, ResponseDecodeError, TransportError, WatchDecodeError } from './errors.ts';
import { HttpRestClient, withQuery } from './rest-client.ts';
import { anonymousConfig } from './rest-config.ts';
import { KubeTransport, type TransportOptions } from './transport.ts';
import { VERSION } from '../version.ts';

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
      res.writeHead(503).end('overloaded');
    });
    server.routes.set('/throttled', (_req, res) => {
      res.writeHead(429, { 'retry-after': '5' }).end('Too many requests, please try again later.');
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
      'user-agent': `pod-sync-operator/${VERSION}`,
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
    expect(busy).toMatchObject({ code: 503, reason: 'ServiceUnavailable', body: 'overloaded' });
    const once = new HttpRestClient(KubeTransport.fromConfig(anonymousConfig(base), { maxRetries: 0 }));
    expect(await once.get('/throttled').catch((e: unknown) => e)).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      retryAfterSeconds: 5,
    });
    await once.transport.destroy();
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
    const text = await registry.metrics();
    const count = (code: string) =>
      metricValue(text, 'rest_client_requests_total', { code, method: 'GET', host });
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
    const text = await registry.metrics();
    expect(metricValue(text, 'rest_client_requests_total', { method: 'POST', code: '201' })).toBe(1);
    expect(metricValue(text, 'rest_client_requests_total', { method: 'PUT', code: '409' })).toBe(1);
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
    expect(metricSeries(await registry.metrics(), 'rest_client_requests_total')).toEqual([
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
      await eventually(() => done.length === 3, 2_000, 10);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(done).toHaveLength(3); // the burst
      clock.step(499);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(done).toHaveLength(3);
      clock.step(1); // 1/qps = 500 ms per token
      await eventually(() => done.length === 4, 2_000, 10);
      clock.step(500);
      await Promise.all(requests);
      expect(server.requests).toHaveLength(5);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('client-side rate limit off', () => {
  it('never throttles at qps Infinity, whatever the burst', async () => {
    const server = new LocalServer();
    server.routes.set('/api/v1/namespaces/ns/pods', (_req, res) => {
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] });
    });
    const base = await server.listen();
    const client = clientFor(base, { clock: new FakeClock(0), rateLimit: { qps: Infinity, burst: 1 } });
    try {
      await Promise.all(Array.from({ length: 5 }, () => client.list('/api/v1/namespaces/ns/pods')));
      expect(server.requests).toHaveLength(5);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('retries on Retry-After (client-go rest/with_retry.go)', () => {
  /** A server whose route answers each request with the next status of `script`, then 200 for good. */
  async function scripted(script: { status: number; retryAfter?: string }[], maxRetries?: number) {
    const server = new LocalServer();
    const answer = (res: ServerResponse, url: URL) => {
      const next = script.shift();
      if (next) {
        const headers = next.retryAfter === undefined ? {} : { 'retry-after': next.retryAfter };
        res.writeHead(next.status, headers).end('Too many requests, please try again later.');
      } else if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ADDED', object: pod('a') })}\n`);
      } else {
        json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '7' }, items: [pod('a')] });
      }
    };
    const base = await server.listen();
    const clock = new FakeClock(0);
    const registry = new Registry();
    const client = HttpRestClient.fromConfig(anonymousConfig(base), {
      clock,
      registry,
      ...(maxRetries === undefined ? {} : { maxRetries }),
    });
    const requestsAt: number[] = [];
    server.routes.set('/api/v1/namespaces/ns/pods', (_req, res, url) => {
      requestsAt.push(clock.now());
      answer(res, url);
    });
    const codes = async () =>
      metricSeries(await registry.metrics(), 'rest_client_requests_total').map(
        (v) => `${v.labels.method} ${v.labels.code} ×${v.value}`,
      );
    cleanups.push(async () => {
      await client.transport.destroy();
      await server.close();
    });
    return { server, clock, client, requestsAt, codes };
  }

  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** Steps the fake clock to `at` once the client waits on it, then lets the request through. */
  async function stepTo(clock: FakeClock, at: number): Promise<void> {
    await eventually(() => clock.pendingTimers() > 0, 2_000, 10);
    clock.setTime(at - 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    clock.setTime(at);
  }

  it('sends a GET answered 429 again after Retry-After seconds, as often as asked', async () => {
    const { clock, client, requestsAt, codes } = await scripted([
      { status: 429, retryAfter: '30' },
      { status: 429, retryAfter: '2' },
    ]);
    const list = client.list('/api/v1/namespaces/ns/pods');
    await stepTo(clock, 30_000);
    await eventually(() => requestsAt.length === 2, 2_000, 10);
    expect(requestsAt).toEqual([0, 30_000]);
    await stepTo(clock, 32_000);
    expect(await list).toMatchObject({ items: [pod('a')] });
    expect(requestsAt).toEqual([0, 30_000, 32_000]);
    expect(await codes()).toEqual(['GET 429 ×2', 'GET 200 ×1']);
  });

  it('retries a 5xx only when it names a Retry-After, and never another status', async () => {
    const { clock, client, requestsAt } = await scripted([{ status: 503, retryAfter: '1' }]);
    const ok = client.list('/api/v1/namespaces/ns/pods');
    await stepTo(clock, 1_000);
    await expect(ok).resolves.toMatchObject({ items: [pod('a')] });

    const plain = await scripted([{ status: 503 }]);
    expect(await plain.client.list('/api/v1/namespaces/ns/pods').catch((e: unknown) => e)).toMatchObject({
      code: 503,
    });
    expect(plain.requestsAt).toEqual([0]);
    const notFound = await scripted([{ status: 404, retryAfter: '1' }]);
    await expect(notFound.client.list('/api/v1/namespaces/ns/pods')).rejects.toMatchObject({ code: 404 });
    expect(notFound.requestsAt).toEqual([0]);
    expect(requestsAt).toEqual([0, 1_000]);
  });

  it('gives up after 10 retries (11 requests) with the last 429 and its Retry-After', async () => {
    const { clock, client, requestsAt } = await scripted(
      Array.from({ length: 11 }, () => ({ status: 429, retryAfter: '1' })),
    );
    const list = client.list('/api/v1/namespaces/ns/pods').catch((e: unknown) => e);
    for (let i = 1; i <= 10; i++) await stepTo(clock, i * 1_000);
    expect(await list).toMatchObject({ code: 429, retryAfterSeconds: 1 });
    expect(requestsAt).toHaveLength(11);
  });

  it('opens a watch refused with 429 again after Retry-After', async () => {
    const { clock, client, requestsAt } = await scripted([{ status: 429, retryAfter: '30' }]);
    const events = consume(client.watch('/api/v1/namespaces/ns/pods', { resourceVersion: '7' }));
    await stepTo(clock, 30_000);
    expect(await events).toEqual([{ type: 'ADDED', object: pod('a') }]);
    expect(requestsAt).toEqual([0, 30_000]);
  });

  it('retries a POST too, with its body', async () => {
    const { server, clock, client, requestsAt } = await scripted([{ status: 429, retryAfter: '3' }]);
    const created = client
      .post('/api/v1/namespaces/ns/pods', { metadata: { name: 'b' } })
      .catch((e: unknown) => e);
    await stepTo(clock, 3_000);
    await created;
    expect(requestsAt).toEqual([0, 3_000]);
    expect(server.requests.map((r) => [r.method, r.body])).toEqual([
      ['POST', '{"metadata":{"name":"b"}}'],
      ['POST', '{"metadata":{"name":"b"}}'],
    ]);
  });

  it('stops waiting when the caller aborts, with its reason, and sends nothing more', async () => {
    const { clock, client, requestsAt } = await scripted([{ status: 429, retryAfter: '30' }]);
    const controller = new AbortController();
    const list = client.list('/api/v1/namespaces/ns/pods', {}, controller.signal).catch((e: unknown) => e);
    await eventually(() => clock.pendingTimers() > 0, 2_000, 10);
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await list).toBe(reason);
    clock.step(60_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(requestsAt).toEqual([0]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('sends once when retries are off (maxRetries 0), per transport or per request', async () => {
    const off = await scripted([{ status: 429, retryAfter: '1' }], 0);
    await expect(off.client.list('/api/v1/namespaces/ns/pods')).rejects.toMatchObject({ code: 429 });
    expect(off.requestsAt).toEqual([0]);
    const perRequest = await scripted([{ status: 429, retryAfter: '1' }]);
    await expect(
      perRequest.client.list('/api/v1/namespaces/ns/pods', {}, undefined, { maxRetries: 0 }),
    ).rejects.toMatchObject({ code: 429 });
    expect(perRequest.requestsAt).toEqual([0]);
    const write = await scripted([{ status: 429, retryAfter: '1' }]);
    await expect(
      write.client.put('/api/v1/namespaces/ns/pods', {}, undefined, undefined, { maxRetries: 0 }),
    ).rejects.toMatchObject({ code: 429 });
    expect(write.requestsAt).toEqual([0]);
  });
});
