// Discovery and the RESTMapper against the real API server: its aggregated documents, its legacy ones,
// and a CRD made after the mapper first read discovery.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { FakeClock } from '../../src/testing/index.ts';
import {
  DiscoveryClient,
  DynamicRESTMapper,
  NoKindMatchError,
  type GroupKind,
} from '../../src/discovery/index.ts';
import { adminKubeConfig, adminRestConfig } from '../helpers/cluster.ts';
import { InstrumentedClient } from '../informers/helpers.ts';
import { installCrd } from '../helpers/owners.ts';

const KINDS: GroupKind[] = [
  { group: '', kind: 'Pod' },
  { group: '', kind: 'Namespace' },
  { group: '', kind: 'ReplicationController' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'batch', kind: 'CronJob' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'coordination.k8s.io', kind: 'Lease' },
];

/** A client that counts GETs by path. */
function counting() {
  const rest = HttpRestClient.fromConfig(adminRestConfig());
  const client = new InstrumentedClient(rest);
  return { client, paths: client.gets, close: () => rest.close() };
}

describe('discovery against the real API server', () => {
  it('reads the aggregated documents in two requests, and the legacy ones group by group, to the same mappings', async () => {
    const aggregated = counting();
    const legacy = counting();
    try {
      const both = [
        new DynamicRESTMapper({ discovery: new DiscoveryClient(aggregated.client) }),
        new DynamicRESTMapper({ discovery: new DiscoveryClient(legacy.client, { legacyOnly: true }) }),
      ];
      const [fromAggregated, fromLegacy] = await Promise.all(
        both.map(async (mapper) => {
          const out = [];
          for (const gk of KINDS) out.push(await mapper.restMapping(gk));
          return out;
        }),
      );
      expect(fromAggregated).toEqual(fromLegacy);
      expect(
        (fromAggregated ?? []).map(
          (m) => `${m.resource}.${m.group}/${m.version} ${m.namespaced ? 'ns' : 'cluster'}`,
        ),
      ).toEqual([
        'pods./v1 ns',
        'namespaces./v1 cluster',
        'replicationcontrollers./v1 ns',
        'replicasets.apps/v1 ns',
        'deployments.apps/v1 ns',
        'cronjobs.batch/v1 ns',
        'clusterroles.rbac.authorization.k8s.io/v1 cluster',
        'leases.coordination.k8s.io/v1 ns',
      ]);
      expect(aggregated.paths).toEqual(['/api', '/apis']);
      // Legacy: the group lists, then one request per group version asked for, each once.
      expect(legacy.paths.slice(0, 2).sort()).toEqual(['/api', '/apis']);
      expect(legacy.paths.slice(2)).toEqual([
        '/api/v1',
        '/apis/apps/v1',
        '/apis/batch/v1',
        '/apis/rbac.authorization.k8s.io/v1',
        '/apis/coordination.k8s.io/v1',
      ]);
      const raw = await new DiscoveryClient(aggregated.client).groupsAndMaybeResources();
      expect(raw.resources?.get('apps/v1')?.some((r) => r.name === 'statefulsets')).toBe(true);
      expect(
        (await new DiscoveryClient(legacy.client, { legacyOnly: true }).groupsAndMaybeResources()).resources,
      ).toBe(undefined);
    } finally {
      await aggregated.close();
      await legacy.close();
    }
  });

  it('finds a CRD created after the first discovery on the next miss that the rate limit allows', async () => {
    const { client, paths, close } = counting();
    const clock = new FakeClock();
    const mapper = new DynamicRESTMapper({ discovery: new DiscoveryClient(client), clock });
    const group = `d${randomBytes(3).toString('hex')}.example.com`;
    const gk = { group, kind: 'Probe' };
    try {
      await mapper.restMapping({ group: 'apps', kind: 'ReplicaSet' });
      await expect(mapper.restMapping(gk, 'v1')).rejects.toThrow(NoKindMatchError);
      await installCrd(adminKubeConfig(), gk);
      // Within the 5 s after the last full discovery, a miss does not ask again.
      const before = paths.length;
      await expect(mapper.restMapping(gk, 'v1')).rejects.toThrow(NoKindMatchError);
      expect(paths.length).toBe(before);
      clock.step(5_000);
      expect(await mapper.restMapping(gk, 'v1')).toEqual({
        group,
        version: 'v1',
        resource: 'probes',
        kind: 'Probe',
        namespaced: true,
      });
      expect(paths.slice(before)).toEqual(['/api', '/apis']);
    } finally {
      await close();
    }
  });
});
