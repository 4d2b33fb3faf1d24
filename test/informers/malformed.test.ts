import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { PODS, SharedInformerFactory, type KubeObject } from '../../src/informers/index.ts';
import { restConfigOf } from '../helpers/cluster.ts';
import { eventually } from '../../src/testing/index.ts';

const pod = (name: string, resourceVersion: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'ns', name, resourceVersion },
});

/**
 * An API server stand-in on loopback that refuses watch-lists with 400, as a server without WatchList
 * does; its first watch streams one good event, then a line cut in half; later lists show the state
 * after that event, later watches stay open quietly.
 */
async function brokenServer(): Promise<{
  url: string;
  lists: () => number;
  watches: () => number;
  refused: () => number;
  close: () => Promise<void>;
}> {
  let lists = 0;
  let watches = 0;
  let refused = 0;
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/api/v1/namespaces/ns/pods') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('sendInitialEvents') === 'true') {
      refused++;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'no watch-list' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') {
      lists++;
      const items = lists === 1 ? [pod('a', '1')] : [pod('a', '1'), pod('b', '3')];
      res.end(
        JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: lists === 1 ? '1' : '3' }, items }),
      );
      return;
    }
    watches++;
    open.add(res);
    res.on('close', () => open.delete(res));
    if (watches === 1) {
      res.write(`${JSON.stringify({ type: 'ADDED', object: pod('b', '2') })}\n`);
      res.write('{"type":"MODIFIED","object":{"metadata":{"name":"b","resourceVer\n');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lists: () => lists,
    watches: () => watches,
    refused: () => refused,
    close: async () => {
      for (const res of open) res.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('a malformed watch line', () => {
  it('is logged and answered with a relist; the informer keeps running', async () => {
    const server = await brokenServer();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
      currentContext: 'local',
    });
    const client = HttpRestClient.fromConfig(restConfigOf(kc));
    const logs: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const factory = new SharedInformerFactory({
      client,
      logger,
      reflector: { backoff: { initialMs: 50, maxMs: 200 } },
    });
    const pods = factory.informerFor<KubeObject>(PODS, { namespace: 'ns' });
    const events: string[] = [];
    pods.addEventHandler({
      onAdd: (p, initial) =>
        events.push(`add ${p.metadata?.name}@${p.metadata?.resourceVersion}${initial ? ' initial' : ''}`),
      onUpdate: (o, p) =>
        events.push(`update ${o.metadata?.resourceVersion}->${p.metadata?.resourceVersion}`),
      onDelete: () => events.push('delete'),
    });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      await eventually(() => Promise.resolve(server.lists() === 2 && server.watches() === 2), 10_000, 20);
      // Each list was first tried as a watch-list, then read by pages.
      expect(server.refused()).toBe(2);
      const malformed = logs.find((l) => l.msg === 'malformed watch event: relisting');
      expect(malformed).toMatchObject({ level: 50 });
      expect(String(malformed?.line)).toContain('"resourceVer');
      expect(events).toEqual(['add a@1 initial', 'add b@2', 'update 2->3']);
      expect(pods.lastSyncResourceVersion()).toBe('3');
      expect(pods.hasSynced()).toBe(true);
    } finally {
      controller.abort();
      await factory.shutdown();
      await client.transport.destroy();
      await server.close();
    }
  });
});
