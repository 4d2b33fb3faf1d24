// The operator on kubeconfig credentials that change under it, against the real API server: an exec
// plugin's credential and a tokenFile user's token are revoked mid-run (the ServiceAccount is deleted
// and recreated, so its old tokens get 401) while the new token is put where the plugin or the file
// reads it. The leader must keep its Lease and keep syncing, without a restart. And $KUBECONFIG as a
// list of files, as kubectl takes it.
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import {
  adminKubeConfig,
  createNamespace,
  tokenWorks,
  podManifest,
  serviceAccountToken,
} from '../helpers/cluster.ts';
import { clusterCaPem } from '../helpers/in-cluster.ts';
import {
  isLeading,
  isSyncOf,
  replicaArgs,
  useOperators,
  LEASE_NAME,
  renewedAfterRevocation,
} from './harness.ts';
import { metricsText } from '../helpers/metrics.ts';
import { eventually, metricValue } from '../../src/testing/index.ts';

const SA = 'operator';
const PLUGIN = join(import.meta.dirname, '..', 'clientcmd', 'fixtures', 'token-plugin.ts');

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const leases = admin.makeApiClient(CoordinationV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
const start = useOperators();

/** A namespace with ServiceAccount `operator` bound to cluster-admin (by name, so it survives a recreate). */
async function namespaceWithOperatorAccount(prefix: string): Promise<{ namespace: string; token: string }> {
  const namespace = await createNamespace(prefix);
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: `${namespace}-operator` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: SA, namespace }],
    },
  });
  const token = await serviceAccountToken(namespace, SA);
  await eventually(() => tokenWorks(token));
  return { namespace, token };
}

/** Replaces a file as a secret store would: a new file renamed into place. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.next`, text);
  renameSync(`${path}.next`, path);
}

function kubeconfigYaml(user: string, currentContext = true): string {
  const ca = Buffer.from(clusterCaPem()).toString('base64');
  return `apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: ${inject('server')}, certificate-authority-data: ${ca} } }]
users:
- name: operator
  user:
${user.replace(/^/gm, '    ')}
contexts: [{ name: local, context: { cluster: local, user: operator } }]
${currentContext ? 'current-context: local\n' : ''}`;
}

/**
 * Starts the operator as leader on `kubeconfig`, revokes its ServiceAccount's tokens, writes the new
 * token to `tokenPath`, and checks it carries on: same Lease holder and transitions, renewals after the
 * revocation, a pod created afterwards synced, no exit, no token in the logs.
 */
async function survivesRevocation(opts: {
  namespace: string;
  firstToken: string;
  tokenPath: string;
  kubeconfig: string;
}): Promise<{ logged: string; lines: Record<string, unknown>[] }> {
  const { namespace, firstToken, tokenPath } = opts;
  await core.createNamespacedPod({ namespace, body: podManifest('before') });
  const op = start(replicaArgs(namespace, opts.kubeconfig));
  const leading = await op.waitFor(isLeading, 30_000);
  await op.waitFor(isSyncOf('before'));
  const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
  expect(lease.spec?.holderIdentity).toBe(leading.identity);

  // Revoke: a new ServiceAccount of the same name (new uid) invalidates every token of the old one.
  await core.deleteNamespacedServiceAccount({ namespace, name: SA });
  const secondToken = await serviceAccountToken(namespace, SA);
  replace(tokenPath, `${secondToken}\n`);
  // The API server caches a successful token authentication for 10 s.
  await eventually(async () => !(await tokenWorks(firstToken)), 20_000, 250);
  const revokedAt = Date.now();

  const { metrics } = await op.addresses();
  const renewed = await renewedAfterRevocation(metrics, namespace, revokedAt);
  expect(renewed.spec?.holderIdentity).toBe(leading.identity);
  expect(renewed.spec?.leaseTransitions).toBe(lease.spec?.leaseTransitions);
  expect(metricValue(await metricsText(metrics), 'leader_election_master_status')).toBe(1);

  await core.createNamespacedPod({ namespace, body: podManifest('after') });
  await op.waitFor(isSyncOf('after'));
  expect(op.child.exitCode).toBeNull();
  expect(op.lines.filter((l) => l.msg === 'leader election lost: exiting')).toEqual([]);
  const logged = JSON.stringify(op.lines);
  expect(logged).not.toContain(firstToken);
  expect(logged).not.toContain(secondToken);
  expect(await op.stop('SIGTERM')).toBe(0);
  return { logged, lines: op.lines };
}

describe('kubeconfig credentials that change while the operator runs', () => {
  it('exec plugin: after the 401 the plugin runs again, once, and the leader keeps its Lease', async () => {
    const { namespace, token } = await namespaceWithOperatorAccount('exec-rotate');
    const dir = mkdtempSync(join(tmpdir(), 'exec-rotate-'));
    const tokenPath = join(dir, 'token');
    const runs = join(dir, 'runs.jsonl');
    replace(tokenPath, token);
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml(`exec:
  apiVersion: client.authentication.k8s.io/v1
  command: ${process.execPath}
  args: [${PLUGIN}, ${tokenPath}, ${runs}]
  interactiveMode: Never`),
    );
    const { lines } = await survivesRevocation({ namespace, firstToken: token, tokenPath, kubeconfig });
    // One run at start, one after the 401s, shared by every request that got one.
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(2);
    // The plugin's stderr reaches the logs, its token redacted.
    const stderr = lines.filter((l) => l.msg === 'exec plugin stderr');
    expect(stderr.length).toBe(2);
    expect(stderr[0]).toMatchObject({ level: 40, stderr: 'token-plugin: issued [REDACTED]' });
  });

  it('tokenFile user: the file is read again after the 401, and the leader keeps its Lease', async () => {
    const { namespace, token } = await namespaceWithOperatorAccount('tokenfile-rotate');
    const dir = mkdtempSync(join(tmpdir(), 'tokenfile-rotate-'));
    const tokenPath = join(dir, 'token');
    replace(tokenPath, `${token}\n`);
    const kubeconfig = join(dir, 'config');
    // Relative to the kubeconfig's folder, not the operator's working directory.
    writeFileSync(kubeconfig, kubeconfigYaml('tokenFile: token'));
    await survivesRevocation({ namespace, firstToken: token, tokenPath, kubeconfig });
  });

  it('$KUBECONFIG=a.yaml:b.yaml, a holding only current-context: the operator syncs pods', async () => {
    const { namespace, token } = await namespaceWithOperatorAccount('kubeconfig-list');
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-list-'));
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Config\ncurrent-context: local\n');
    writeFileSync(join(dir, 'b.yaml'), kubeconfigYaml(`token: ${token}`, false));
    await core.createNamespacedPod({ namespace, body: podManifest('listed') });
    const op = start(['--namespace', namespace], {
      KUBECONFIG: `${join(dir, 'missing.yaml')}:${join(dir, 'a.yaml')}:${join(dir, 'b.yaml')}`,
    });
    const started = await op.waitFor((l) => l.msg === 'starting pod-sync-operator');
    expect(started).toMatchObject({
      kubeconfig: `${join(dir, 'a.yaml')}:${join(dir, 'b.yaml')}`,
      server: inject('server'),
    });
    await op.waitFor(isSyncOf('listed'));
    expect(await op.stop('SIGTERM')).toBe(0);
  });

  it('a kubeconfig the operator cannot use: one line naming the file, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-kubeconfig-'));
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfigYaml('token: t\nusername: u'));
    const op = start(['--kubeconfig', path]);
    expect(await op.exited).toBe(2);
    const failed = op.lines.find((l) => l.msg === 'start-up failed');
    expect(failed).toMatchObject({
      err: {
        message: `kubeconfig ${path}: user "operator": more than one authentication method (token, basicAuth); only one is allowed`,
      },
    });
  });
});
