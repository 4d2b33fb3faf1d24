// 429 and Retry-After against the real API server: a watch-list refused with 429 is sent again as a
// watch-list once Retry-After has passed, never replaced by a paged list. First through a proxy that
// answers the first watch-list as API Priority and Fairness does, then through real APF: a priority
// level with no seats for the test's ServiceAccount, whose one seat a request held open keeps busy.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { FlowcontrolApiserverV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { credentialsFor, HttpRestClient, KubeTransport } from '../../src/client/index.ts';
import { SharedInformerFactory, PODS } from '../../src/informers/index.ts';
import {
  adminKubeConfig,
  adminRestConfig,
  kubeConfigWithToken,
  namespaceWithPod,
  restConfigOf,
  serviceAccountToken,
} from '../helpers/cluster.ts';
import { InstrumentedClient } from './helpers.ts';
import { eventually, captureLogs, metricSum } from '../../src/testing/index.ts';
import type { Logger } from 'pino';

/** Long enough to tell from the reflector's first backoff (0.8 to 1.6 s) and from a fallback (ms). */
const RETRY_AFTER_SECONDS = 3;
/** A timer fires no earlier than asked; this much slack covers the proxy's own clock reading. */
const SLACK_MS = 20;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Seen {
  at: number;
  /** watch-list, watch or list. */
  kind: string;
  status: number;
}

const certDir = (): string => join(dirname(inject('kubeconfig')), 'certs');

function kindOf(url: URL): string {
  if (url.searchParams.get('watch') !== 'true') return 'list';
  return url.searchParams.get('sendInitialEvents') === 'true' ? 'watch-list' : 'watch';
}

/**
 * An HTTPS proxy to the API server that answers the first watch-list with API Priority and Fairness's
 * 429 (its header and body) and forwards everything else. Records what reached it for `path`.
 */
async function startThrottlingProxy(path: string): Promise<{ url: string; seen: Seen[] }> {
  const upstream = new URL(inject('server'));
  const cert = readFileSync(join(certDir(), 'apiserver.crt'));
  const seen: Seen[] = [];
  let throttled = false;
  const server = createHttpsServer(
    { cert, key: readFileSync(join(certDir(), 'apiserver.key')) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://proxy');
      const kind = kindOf(url);
      const record = (status: number): void => {
        if (url.pathname === path) seen.push({ at: performance.now(), kind, status });
      };
      if (url.pathname === path && kind === 'watch-list' && !throttled) {
        throttled = true;
        record(429);
        res
          .writeHead(429, {
            'retry-after': String(RETRY_AFTER_SECONDS),
            'content-type': 'text/plain; charset=utf-8',
            'x-content-type-options': 'nosniff',
          })
          .end('Too many requests, please try again later.\n');
        return;
      }
      const out = httpsRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: withoutHopByHop(req.headers),
          ca: cert,
        },
        (answer) => {
          record(answer.statusCode ?? 0);
          res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/** A started informer of the pods of `namespace` through `transport`, its requests counted; stopped after the test. */
function podInformer(transport: KubeTransport, namespace: string, logger: Logger) {
  const client = new InstrumentedClient(new HttpRestClient(transport));
  const factory = new SharedInformerFactory({ client, namespace, logger });
  const pods = factory.informerFor(PODS);
  const stop = new AbortController();
  factory.start(stop.signal);
  cleanups.push(async () => {
    stop.abort();
    await factory.shutdown();
    await transport.destroy();
  });
  return {
    client,
    hasSynced: () => pods.hasSynced(),
    waitForCacheSync: () => factory.waitForCacheSync(stop.signal, 60_000),
    names: () => pods.store.list().map((p) => p.metadata?.name),
  };
}

describe('a watch-list answered 429 with Retry-After, through a proxy', () => {
  for (const [layer, maxRetries] of [
    ['the client retries it', undefined],
    ['the reflector retries it (client retries off)', 0],
  ] as const) {
    it(`is sent again as a watch-list ${RETRY_AFTER_SECONDS} s later, never as a paged list: ${layer}`, async () => {
      const namespace = await namespaceWithPod(`ra-proxy-${maxRetries ?? 'rest'}`);
      const path = `/api/v1/namespaces/${namespace}/pods`;
      const proxy = await startThrottlingProxy(path);
      const { logger, lines } = captureLogs('debug');
      const transport = new KubeTransport({
        server: proxy.url,
        tls: { ca: readFileSync(join(certDir(), 'apiserver.crt')), rejectUnauthorized: true },
        credentials: credentialsFor(adminRestConfig()),
        options: { logger, ...(maxRetries === undefined ? {} : { maxRetries }) },
      });
      const informer = podInformer(transport, namespace, logger);
      expect(await informer.waitForCacheSync()).toBe(true);
      expect(informer.names()).toEqual(['first']);

      const [refused, next] = proxy.seen;
      expect(proxy.seen.map((s) => `${s.kind} ${s.status}`)).toEqual(['watch-list 429', 'watch-list 200']);
      const waitedMs = (next?.at ?? 0) - (refused?.at ?? 0);
      console.log(`${layer}: watch-list sent again ${Math.round(waitedMs)} ms after the 429`);
      expect(waitedMs).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - SLACK_MS);
      expect(waitedMs).toBeLessThan(RETRY_AFTER_SECONDS * 1000 + 2_000);
      const waited =
        maxRetries === 0
          ? lines.find((l) => l.msg === 'watch-list refused: waiting, then streaming again')
          : lines.find((l) => String(l.msg).includes('asked to retry later'));
      expect(waited).toMatchObject({ delayMs: RETRY_AFTER_SECONDS * 1000 });
    });
  }
});

/**
 * A PriorityLevelConfiguration with no seats of its own that lends and borrows none, rejecting what it
 * cannot run, and a FlowSchema sending every request of one ServiceAccount to it. API Priority and
 * Fairness still runs one request alone when nothing else of that level executes, so one request held
 * open (a POST whose body never ends) makes it answer 429 to all the others.
 */
async function throttleServiceAccount(namespace: string, name: string): Promise<string> {
  const flowcontrol = adminKubeConfig().makeApiClient(FlowcontrolApiserverV1Api);
  const level = `${namespace}-no-seats`;
  const created = await flowcontrol.createPriorityLevelConfiguration({
    body: {
      metadata: { name: level },
      spec: {
        type: 'Limited',
        limited: {
          nominalConcurrencyShares: 0,
          lendablePercent: 0,
          borrowingLimitPercent: 0,
          limitResponse: { type: 'Reject' },
        },
      },
    },
  });
  await flowcontrol.createFlowSchema({
    body: {
      metadata: { name: level },
      spec: {
        priorityLevelConfiguration: { name: level },
        matchingPrecedence: 100,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'ServiceAccount', serviceAccount: { namespace, name } }],
            resourceRules: [
              {
                verbs: ['*'],
                apiGroups: ['*'],
                resources: ['*'],
                namespaces: ['*'],
                clusterScope: true,
              },
            ],
          },
        ],
      },
    },
  });
  cleanups.push(async () => {
    await flowcontrol.deleteFlowSchema({ name: level });
    await flowcontrol.deletePriorityLevelConfiguration({ name: level });
  });
  return created.metadata?.uid ?? '';
}

/** A request of `token` that holds its APF seat: a POST whose body is promised and never sent. */
async function holdSeat(namespace: string, token: string): Promise<TLSSocket> {
  const server = new URL(inject('server'));
  const socket = tlsConnect({
    host: server.hostname,
    port: Number(server.port),
    ca: readFileSync(join(certDir(), 'apiserver.crt')),
    ALPNProtocols: ['http/1.1'],
  });
  await once(socket, 'secureConnect');
  socket.write(
    [
      `POST /api/v1/namespaces/${namespace}/configmaps HTTP/1.1`,
      `Host: ${server.host}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{"metadata":',
    ].join('\r\n'),
  );
  return socket;
}

async function probe(namespace: string, token: string) {
  const server = new URL(inject('server'));
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: server.hostname,
        port: server.port,
        path: `/api/v1/namespaces/${namespace}/pods`,
        headers: { authorization: `Bearer ${token}` },
        ca: readFileSync(join(certDir(), 'apiserver.crt')),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('a watch-list answered 429 by API Priority and Fairness', () => {
  it('waits for the real Retry-After and streams again, never listing by pages', async () => {
    const namespace = await namespaceWithPod('ra-apf');
    const account = 'throttled';
    const token = await serviceAccountToken(namespace, account);
    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: account },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: account },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
      },
    });
    const levelUid = await throttleServiceAccount(namespace, account);
    // The API server applies a new configuration within a moment; its answers name the level used.
    await eventually(async () => {
      const answer = await probe(namespace, token);
      return answer.status === 200 && answer.headers['x-kubernetes-pf-prioritylevel-uid'] === levelUid;
    }, 20_000);

    // Requests that hold the level's seats: each sends its headers and half its body, so its handler
    // waits in the seat. One that is answered (a 429 of its own, a timeout) holds none and is made
    // again, so the level stays full whatever its concurrency limit (one seat or a few).
    const seats: TLSSocket[] = [];
    const releaseSeats = (): void => {
      for (const seat of seats.splice(0)) seat.destroy();
    };
    cleanups.push(() => {
      releaseSeats();
      return Promise.resolve();
    });
    let refusal: Awaited<ReturnType<typeof probe>> | undefined;
    await eventually(async () => {
      for (let i = seats.length - 1; i >= 0; i--) if (seats[i]?.destroyed) seats.splice(i, 1);
      while (seats.length < 4) {
        const seat = await holdSeat(namespace, token);
        seat.once('data', () => seat.destroy());
        seats.push(seat);
      }
      refusal = await probe(namespace, token);
      return refusal.status === 429;
    }, 30_000);
    // The real shape of an APF refusal: integer delay-seconds, a plain-text body, no Status.
    console.log(
      `APF 429: retry-after ${String(refusal?.headers['retry-after'])}, body ${JSON.stringify(refusal?.body)}`,
    );
    expect(refusal?.headers['retry-after']).toMatch(/^\d+$/);
    expect(refusal?.headers['x-kubernetes-pf-prioritylevel-uid']).toBe(levelUid);
    expect(refusal?.body).toBe('Too many requests, please try again later.\n');

    const { logger, lines } = captureLogs('debug');
    const registry = new Registry();
    const transport = KubeTransport.fromConfig(restConfigOf(kubeConfigWithToken(token)), {
      logger,
      registry,
    });
    const refused = async (): Promise<number> =>
      metricSum(await registry.metrics(), 'rest_client_requests_total', { code: '429' });
    const informer = podInformer(transport, namespace, logger);

    // Refused while the seat is held: the client waits each Retry-After and sends the watch-list again.
    await eventually(async () => (await refused()) >= 3, 30_000);
    expect(informer.hasSynced()).toBe(false);
    releaseSeats();
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(informer.names()).toEqual(['first']);
    // One watch-list call, its retries inside the client; not one paged list.
    const { client } = informer;
    expect({ lists: client.lists, watchLists: client.streams }).toEqual({ lists: 0, watchLists: 1 });

    const waits = lines.filter((l) => String(l.msg).includes('asked to retry later'));
    expect(waits.length).toBeGreaterThanOrEqual(3);
    console.log(`APF: ${waits.length} retries, delays ${waits.map((l) => String(l.delayMs)).join(', ')} ms`);
    for (const wait of waits) {
      expect(wait).toMatchObject({ code: 429, method: 'GET' });
      expect(String(wait.path)).toContain('sendInitialEvents=true');
      expect(wait.delayMs).toBeGreaterThanOrEqual(1_000);
    }
  });
});
