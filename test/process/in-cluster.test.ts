// The operator as it runs in a pod: no kubeconfig anywhere, KUBERNETES_SERVICE_HOST/PORT and a
// service-account directory (token, ca.crt, namespace) with a ServiceAccount's token and only the
// RBAC it needs. The token is then rotated and the old one revoked, as the kubelet and the API server
// would, and the operator must carry on without a restart.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OWNER_RESOURCES, parseGroupResource } from '../../src/controllers/pod-sync/index.ts';
import {
  adminKubeConfig,
  createNamespace,
  kubeConfigWithToken,
  tokenWorks,
  podManifest,
  serviceAccountToken,
} from '../helpers/cluster.ts';
import {
  isLeading,
  isSyncOf,
  TIMING_FLAGS,
  useOperators,
  LEASE_NAME,
  timings,
  renewedAfterRevocation,
} from './harness.ts';
import { metricsText } from '../helpers/metrics.ts';
import { eventually, metricSum, metricValue } from '../../src/testing/index.ts';

const SA = 'pod-sync-operator';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
const leases = admin.makeApiClient(CoordinationV1Api);
const start = useOperators();

/** What the operator needs, and no more: read pods and owners everywhere, write its Lease at home. */
async function grantOperatorRbac(namespace: string): Promise<void> {
  const name = `pod-sync-operator-${namespace}`;
  const subjects = [{ kind: 'ServiceAccount', name: SA, namespace }];
  const read = ['get', 'list', 'watch'];
  await rbac.createClusterRole({
    body: {
      metadata: { name },
      // Pods, and every owner kind --owner-resources allows by default: other tests' pods, in other
      // namespaces, may be owned through any of them.
      rules: ['pods', ...OWNER_RESOURCES].map((qualified) => {
        const { group, resource } = parseGroupResource(qualified);
        return { apiGroups: [group], resources: [resource], verbs: read };
      }),
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    },
  });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'pod-sync-operator-leader-election' },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'pod-sync-operator-leader-election' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'pod-sync-operator-leader-election',
      },
      subjects,
    },
  });
}

/** Writes the token as the kubelet does: a new file renamed into place, never a half-written one. */
function writeToken(dir: string, token: string): void {
  const next = join(dir, `.token-${Date.now()}`);
  // Trailing whitespace and a newline, as `echo` and many secret stores leave them.
  writeFileSync(next, `${token}  \n`);
  renameSync(next, join(dir, 'token'));
}

describe('in a pod (in-cluster configuration)', () => {
  it('runs on the service-account token, takes the Lease, syncs every namespace, and survives token rotation', async () => {
    const namespace = await createNamespace('incluster');
    const other = await createNamespace('incluster-other');
    await grantOperatorRbac(namespace);
    const firstToken = await serviceAccountToken(namespace, SA);
    // RBAC is live once the account may list pods everywhere.
    await eventually(async () => {
      try {
        await kubeConfigWithToken(firstToken).makeApiClient(CoreV1Api).listPodForAllNamespaces({ limit: 1 });
        return true;
      } catch {
        return false;
      }
    });

    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    onTestFinished(() => {
      for (const d of [dir, home]) rmSync(d, { recursive: true, force: true });
    });
    const caData = admin.getCurrentCluster()?.caData;
    if (!caData) throw new Error('the admin kubeconfig has no certificate-authority-data');
    writeFileSync(join(dir, 'ca.crt'), Buffer.from(caData, 'base64'));
    writeFileSync(join(dir, 'namespace'), `${namespace}\n`);
    writeToken(dir, firstToken);
    const server = new URL(admin.getCurrentCluster()?.server ?? '');

    await core.createNamespacedPod({ namespace: other, body: podManifest('before') });
    const op = start(['--service-account-dir', dir, '--leader-elect', ...TIMING_FLAGS], {
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      HOME: home,
      POD_NAME: 'in-cluster-operator',
    });
    const started = await op.waitFor((l) => l.msg === 'starting pod-sync-operator');
    expect(started).toMatchObject({
      kubeconfig: 'in-cluster',
      server: `https://${server.host}`,
      namespace: '(all)',
    });
    // The Lease goes to the namespace of the namespace file.
    const leading = await op.waitFor(isLeading, 30_000);
    expect(String(leading.identity)).toMatch(/^in-cluster-operator_/);
    const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
    expect(lease.spec?.holderIdentity).toBe(leading.identity);

    await op.waitFor(isSyncOf('before'));
    await core.createNamespacedPod({ namespace, body: podManifest('home-pod') });
    await op.waitFor((l) => isSyncOf('home-pod')(l) && l.namespace === namespace);

    // Rotate: a new ServiceAccount of the same name (new uid) revokes every token of the old one, and
    // its token goes into the file.
    const oldUid = (await core.readNamespacedServiceAccount({ namespace, name: SA })).metadata?.uid;
    await core.deleteNamespacedServiceAccount({ namespace, name: SA });
    const secondToken = await serviceAccountToken(namespace, SA);
    const newUid = (await core.readNamespacedServiceAccount({ namespace, name: SA })).metadata?.uid;
    expect(newUid).not.toBe(oldUid);
    writeToken(dir, secondToken);
    expect(await tokenWorks(secondToken)).toBe(true);
    // The API server remembers a successful token authentication for 10 s, so the old token is
    // rejected only once that runs out.
    await eventually(async () => !(await tokenWorks(firstToken)), 20_000, 250);
    const revokedAt = Date.now();

    // Lease renewals are new requests: the first with the revoked token gets a 401, which makes the
    // client read the file again at once, not at its next 60 s re-read.
    const { metrics } = await op.addresses();
    const renewed = await renewedAfterRevocation(metrics, namespace, revokedAt);
    // Renewing on the new token well before the periodic re-read could have found it.
    expect(new Date(renewed.spec?.renewTime ?? 0).getTime() - Number(started.time)).toBeLessThan(60_000);
    expect(renewed.spec?.holderIdentity).toBe(leading.identity);
    expect(renewed.spec?.leaseTransitions).toBe(lease.spec?.leaseTransitions);
    const afterRenewal = await metricsText(metrics);
    expect(metricValue(afterRenewal, 'leader_election_master_status')).toBe(1);
    // 401s stopped: the number seen now is the number seen from here on.
    const unauthorized = metricSum(afterRenewal, 'rest_client_requests_total', { code: '401' });
    expect(unauthorized).toBeGreaterThan(0);

    await core.createNamespacedPod({ namespace: other, body: podManifest('after-rotation') });
    await op.waitFor(isSyncOf('after-rotation'));
    // Still renewing, with no new 401, a few retry periods later.
    const renewTime = new Date(renewed.spec?.renewTime ?? 0).getTime();
    await eventually(async () => {
      const later = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
      return new Date(later.spec?.renewTime ?? 0).getTime() > renewTime + 4 * timings.retryPeriodMs;
    }, 15_000);
    expect(metricSum(await metricsText(metrics), 'rest_client_requests_total', { code: '401' })).toBe(
      unauthorized,
    );
    expect(op.lines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(op.child.exitCode).toBeNull();
    // Neither token ever reaches the logs.
    const logged = JSON.stringify(op.lines);
    expect(logged).not.toContain(firstToken);
    expect(logged).not.toContain(secondToken);

    expect(await op.stop('SIGTERM')).toBe(0);
  });
});
