import { describe, expect, it } from 'vitest';
import { ApiError } from '../client/index.ts';
import { FakeRestClient, FakeClock } from '../testing/index.ts';
import { DISCOVERY_ACCEPT, DiscoveryClient } from './discovery-client.ts';
import { DynamicRESTMapper, NoKindMatchError } from './rest-mapper.ts';
import type { APIResourceDiscovery, APIVersionDiscovery } from './types.ts';

const notFound = () => new ApiError(404, { kind: 'Status', code: 404, reason: 'NotFound' });

function resource(
  name: string,
  kind: string,
  scope: 'Cluster' | 'Namespaced' = 'Namespaced',
): APIResourceDiscovery {
  return {
    resource: name,
    responseKind: { group: '', version: '', kind },
    scope,
    verbs: ['get', 'list', 'watch'],
  };
}

function aggregated(groups: { name: string; versions: APIVersionDiscovery[] }[]) {
  return {
    apiVersion: 'apidiscovery.k8s.io/v2',
    kind: 'APIGroupDiscoveryList',
    items: groups.map(({ name, versions }) => ({ metadata: { name }, versions })),
  };
}

/** A server with aggregated discovery; `apis` is what /apis serves, and can change. */
function aggregatedServer(apis: { name: string; versions: APIVersionDiscovery[] }[]) {
  const client = new FakeRestClient();
  const state = { apis };
  client.getHandler = (path) => {
    if (path === '/api')
      return aggregated([{ name: '', versions: [{ version: 'v1', resources: [resource('pods', 'Pod')] }] }]);
    if (path === '/apis') return aggregated(state.apis);
    const [, , group, version] = path.split('/');
    const served = state.apis.find((g) => g.name === group)?.versions.find((v) => v.version === version);
    if (!served) throw notFound();
    return {
      groupVersion: `${group}/${version}`,
      resources: (served.resources ?? []).map((r) => ({
        name: r.resource,
        namespaced: r.scope === 'Namespaced',
        kind: r.responseKind?.kind,
      })),
    };
  };
  return { client, state };
}

const APPS = {
  name: 'apps',
  versions: [
    {
      version: 'v1',
      resources: [resource('replicasets', 'ReplicaSet'), resource('deployments', 'Deployment')],
    },
  ],
};

describe('DiscoveryClient', () => {
  it('reads /api and /apis with client-go Accept, and splits the aggregated documents', async () => {
    const stale: APIVersionDiscovery = {
      version: 'v1',
      freshness: 'Stale',
      resources: [resource('metrics', 'Metric')],
    };
    const { client } = aggregatedServer([
      APPS,
      {
        name: 'example.com',
        versions: [
          {
            version: 'v2',
            resources: [
              resource('widgets', 'Widget'),
              resource('clusterwidgets', 'ClusterWidget', 'Cluster'),
            ],
          },
          { version: 'v1', resources: [resource('widgets', 'Widget')] },
        ],
      },
      { name: 'metrics.k8s.io', versions: [stale] },
    ]);
    const {
      groups,
      resources,
      stale: staleGVs,
    } = await new DiscoveryClient(client).groupsAndMaybeResources();
    expect(client.calls.map((c) => [c.path, c.accept])).toEqual([
      ['/api', DISCOVERY_ACCEPT],
      ['/apis', DISCOVERY_ACCEPT],
    ]);
    expect(DISCOVERY_ACCEPT).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    );
    expect(groups.map((g) => [g.name, g.preferredVersion?.version])).toEqual([
      ['', 'v1'],
      ['apps', 'v1'],
      ['example.com', 'v2'],
      ['metrics.k8s.io', undefined],
    ]);
    expect(staleGVs).toEqual(['metrics.k8s.io/v1']);
    expect(resources?.get('example.com/v2')).toEqual([
      { name: 'widgets', namespaced: true, kind: 'Widget', verbs: ['get', 'list', 'watch'] },
      { name: 'clusterwidgets', namespaced: false, kind: 'ClusterWidget', verbs: ['get', 'list', 'watch'] },
    ]);
    expect(resources?.has('metrics.k8s.io/v1')).toBe(false);
  });

  it('falls back to the legacy documents, and tolerates a 404 from /api', async () => {
    const client = new FakeRestClient();
    client.getHandler = (path) => {
      if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
      if (path === '/apis') {
        return {
          kind: 'APIGroupList',
          groups: [
            {
              name: 'apps',
              versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
              preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
            },
          ],
        };
      }
      if (path === '/apis/apps/v1')
        return {
          groupVersion: 'apps/v1',
          resources: [{ name: 'replicasets', namespaced: true, kind: 'ReplicaSet' }],
        };
      throw notFound();
    };
    const discovery = new DiscoveryClient(client);
    const legacy = await discovery.groupsAndMaybeResources();
    expect(legacy.resources).toBeUndefined();
    expect(legacy.groups.map((g) => g.name)).toEqual(['', 'apps']);
    expect(await discovery.serverResourcesForGroupVersion('apps/v1')).toEqual([
      { name: 'replicasets', namespaced: true, kind: 'ReplicaSet' },
    ]);

    const noCore = new FakeRestClient();
    noCore.getHandler = (path) => {
      if (path === '/api') throw notFound();
      return aggregated([APPS]);
    };
    const { groups, resources } = await new DiscoveryClient(noCore).groupsAndMaybeResources();
    expect(groups.map((g) => g.name)).toEqual(['apps']);
    expect(resources?.has('apps/v1')).toBe(true);

    const legacyOnly = new FakeRestClient();
    legacyOnly.getHandler = () => ({ kind: 'APIGroupList', groups: [] });
    await new DiscoveryClient(legacyOnly, { legacyOnly: true }).groupsAndMaybeResources();
    expect(legacyOnly.calls.map((c) => c.accept)).toEqual(['application/json', 'application/json']);
  });
});

describe('DynamicRESTMapper', () => {
  it('does not forget a group for a version only the caller named', async () => {
    const clock = new FakeClock();
    const { client } = aggregatedServer([APPS]);
    const mapper = new DynamicRESTMapper({
      discovery: new DiscoveryClient(client),
      clock,
      minRefreshIntervalMs: 5_000,
    });
    await mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' });
    clock.step(5_000);
    await expect(mapper.restMapping({ group: 'apps', kind: 'Bogus' }, 'v9')).rejects.toThrow(
      NoKindMatchError,
    );
    clock.step(5_000);
    await expect(mapper.restMapping({ group: 'apps', kind: 'Bogus' }, 'v1/extra')).rejects.toThrow(
      NoKindMatchError,
    );
    expect(client.calls.map((c) => c.path)).toEqual([
      '/api',
      '/apis',
      '/apis/apps/v1',
      '/apis/apps/v9',
      '/apis/apps/v1',
    ]);
    expect(mapper.cachedRESTMapping({ group: 'apps', kind: 'Deployment' })).toMatchObject({
      resource: 'deployments',
    });
  });

  it('maps a kind to its resource and scope at the preferred version, from one discovery', async () => {
    const { client } = aggregatedServer([
      APPS,
      {
        name: 'example.com',
        versions: [
          { version: 'v2', resources: [resource('clusterwidgets', 'ClusterWidget', 'Cluster')] },
          {
            version: 'v1',
            resources: [
              resource('widgets', 'Widget'),
              resource('clusterwidgets', 'ClusterWidget', 'Cluster'),
            ],
          },
        ],
      },
    ]);
    const mapper = new DynamicRESTMapper({ discovery: new DiscoveryClient(client), clock: new FakeClock() });
    expect(await mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' }, 'v1')).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'replicasets',
      kind: 'ReplicaSet',
      namespaced: true,
    });
    expect(await mapper.restMapping({ group: 'example.com', kind: 'ClusterWidget' }, 'v1')).toMatchObject({
      version: 'v2',
      namespaced: false,
    });
    // Served only in a version that is not preferred: that version.
    expect(await mapper.restMapping({ group: 'example.com', kind: 'Widget' })).toMatchObject({
      version: 'v1',
      resource: 'widgets',
    });
    expect(await mapper.restMapping({ group: '', kind: 'Pod' }, 'v1')).toMatchObject({
      resource: 'pods',
      group: '',
    });
    expect(client.calls.map((c) => c.path)).toEqual(['/api', '/apis']);
  });

  it('refreshes on a miss, as controller-runtime does: a new group by full discovery, a known group by its versions', async () => {
    const clock = new FakeClock();
    const { client, state } = aggregatedServer([APPS]);
    const mapper = new DynamicRESTMapper({
      discovery: new DiscoveryClient(client),
      clock,
      minRefreshIntervalMs: 5_000,
    });
    await mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' });
    await expect(mapper.restMapping({ group: 'late.example.com', kind: 'Latecomer' }, 'v1')).rejects.toThrow(
      NoKindMatchError,
    );
    // A CRD in a new group, after the first discovery: the next miss in that group, once allowed, reads it.
    state.apis = [
      APPS,
      {
        name: 'late.example.com',
        versions: [{ version: 'v1', resources: [resource('latecomers', 'Latecomer')] }],
      },
    ];
    clock.step(5_000);
    const before = client.calls.length;
    expect(await mapper.restMapping({ group: 'late.example.com', kind: 'Latecomer' }, 'v1')).toMatchObject({
      resource: 'latecomers',
    });
    expect(client.calls.slice(before).map((c) => c.path)).toEqual(['/api', '/apis']);

    // A new kind in a known group: /apis/<group>/<version> only.
    state.apis = [
      APPS,
      {
        name: 'late.example.com',
        versions: [
          {
            version: 'v1',
            resources: [resource('latecomers', 'Latecomer'), resource('stragglers', 'Straggler')],
          },
        ],
      },
    ];
    clock.step(5_000);
    const mid = client.calls.length;
    expect(await mapper.restMapping({ group: 'late.example.com', kind: 'Straggler' }, 'v1')).toMatchObject({
      resource: 'stragglers',
    });
    expect(client.calls.slice(mid).map((c) => c.path)).toEqual(['/apis/late.example.com/v1']);
  });

  it('refreshes a group at most once per interval, so a bogus kind cannot hammer discovery', async () => {
    const clock = new FakeClock();
    const { client } = aggregatedServer([APPS]);
    const mapper = new DynamicRESTMapper({
      discovery: new DiscoveryClient(client),
      clock,
      minRefreshIntervalMs: 5_000,
    });
    await mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' });
    const start = client.calls.length;
    for (let i = 0; i < 100; i++) {
      await expect(mapper.restMapping({ group: 'apps', kind: 'Bogus' }, 'v1')).rejects.toThrow(
        NoKindMatchError,
      );
      await expect(
        mapper.restMapping({ group: `bogus${i}.example.com`, kind: 'Bogus' }, 'v1'),
      ).rejects.toThrow(NoKindMatchError);
      clock.step(100);
    }
    // 200 misses over 10 s: apps re-read once and one full discovery (the first fill was at t=0).
    expect(client.calls.slice(start).map((c) => c.path)).toEqual(['/apis/apps/v1', '/api', '/apis']);
  });

  it('shares one refresh between concurrent misses, and forgets a group whose version went away', async () => {
    const clock = new FakeClock();
    const { client, state } = aggregatedServer([APPS]);
    const mapper = new DynamicRESTMapper({
      discovery: new DiscoveryClient(client),
      clock,
      minRefreshIntervalMs: 5_000,
    });
    const both = await Promise.allSettled([
      mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' }),
      mapper.restMapping({ group: 'apps', kind: 'Deployment' }),
    ]);
    expect(both.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(client.calls.map((c) => c.path)).toEqual(['/api', '/apis']);

    state.apis = [
      {
        name: 'apps',
        versions: [
          { version: 'v2', resources: [resource('replicasets', 'ReplicaSet'), resource('gizmos', 'Gizmo')] },
        ],
      },
    ];
    clock.step(5_000);
    await expect(mapper.restMapping({ group: 'apps', kind: 'Gizmo' })).rejects.toThrow(NoKindMatchError);
    clock.step(5_000);
    // The 404 for apps/v1 made the group unknown: this miss reads discovery afresh and finds v2.
    expect(await mapper.restMapping({ group: 'apps', kind: 'Gizmo' })).toMatchObject({
      version: 'v2',
      resource: 'gizmos',
    });
  });
});
