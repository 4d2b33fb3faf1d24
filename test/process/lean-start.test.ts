// The production paths load none of @kubernetes/client-node: every module the operator process
// resolves is recorded by a resolve hook (fixtures/record-modules.ts, loaded with --import), on the
// in-cluster path and on a kubeconfig with tokens or an exec plugin, Leases included. A kubeconfig
// user with an auth-provider is the one path that loads it, which also shows the hook sees it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { adminKubeConfig, createNamespace, serviceAccountToken } from '../helpers/cluster.ts';
import { clusterCaPem, inClusterAs } from '../helpers/in-cluster.ts';
import { startOperator } from '../helpers/operator.ts';
import { isLeading } from './harness.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const HOOK = join(import.meta.dirname, 'fixtures', 'record-modules.ts');
const PLUGIN = join(import.meta.dirname, '..', 'clientcmd', 'fixtures', 'token-plugin.ts');
const CLIENT_NODE = /\/node_modules\/@kubernetes\/client-node\//;

/** A namespace whose ServiceAccount `operator` may do anything (bound to cluster-admin). */
async function operatorAccount(prefix: string): Promise<{ namespace: string; token: string }> {
  const namespace = await createNamespace(prefix);
  await adminKubeConfig()
    .makeApiClient(RbacAuthorizationV1Api)
    .createClusterRoleBinding({
      body: {
        metadata: { name: `${namespace}-operator` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace }],
      },
    });
  return { namespace, token: await serviceAccountToken(namespace, 'operator') };
}

function kubeconfigFor(user: string): string {
  const ca = Buffer.from(clusterCaPem()).toString('base64');
  const path = join(mkdtempSync(join(tmpdir(), 'lean-')), 'config');
  writeFileSync(
    path,
    `clusters: [{ name: c, cluster: { server: ${inject('server')}, certificate-authority-data: ${ca} } }]
users:
- name: u
  user:
${user.replace(/^/gm, '    ')}
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  return path;
}

/** Runs the operator as leader until it leads and its caches synced; the modules it resolved. */
async function modulesOf(namespace: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const record = join(mkdtempSync(join(tmpdir(), 'modules-')), 'resolved.txt');
  writeFileSync(record, '');
  const op = startOperator(
    ['--namespace', namespace, '--leader-elect', '--leader-election-namespace', namespace, ...args],
    { ...env, RECORD_MODULES_TO: record },
    { command: [process.execPath, '--import', HOOK, MAIN] },
  );
  try {
    await op.waitFor((l) => l.msg === 'caches synced', 30_000);
    await op.waitFor(isLeading, 30_000);
  } finally {
    expect(await op.stop('SIGTERM')).toBe(0);
  }
  return readFileSync(record, 'utf8').trim().split('\n');
}

describe('production start-up without @kubernetes/client-node', () => {
  it('in-cluster, Leases included', async () => {
    const { namespace } = await operatorAccount('lean-incluster');
    const pod = await inClusterAs(namespace, 'operator');
    const modules = await modulesOf(namespace, pod.args, pod.env);
    expect(modules.some((url) => url.endsWith('/src/leaderelection/rest-lease-client.ts'))).toBe(true);
    expect(modules.some((url) => url.endsWith('/src/clientcmd/in-cluster.ts'))).toBe(true);
    expect(modules.filter((url) => CLIENT_NODE.test(url))).toEqual([]);
    // Nor a YAML parser (no kubeconfig is read) or the pretty printer (the log is JSON on a pipe).
    expect(modules.filter((url) => /\/node_modules\/(yaml|pino-pretty)\//.test(url))).toEqual([]);
  });

  it('a kubeconfig with a token, and one with an exec plugin', async () => {
    const { namespace, token } = await operatorAccount('lean-kubeconfig');
    const withToken = await modulesOf(namespace, ['--kubeconfig', kubeconfigFor(`token: ${token}`)]);
    expect(withToken.filter((url) => CLIENT_NODE.test(url))).toEqual([]);
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'lean-token-')), 'token');
    writeFileSync(tokenFile, token);
    const exec = kubeconfigFor(`exec:
  apiVersion: client.authentication.k8s.io/v1
  command: ${process.execPath}
  args: [${PLUGIN}, ${tokenFile}]
  interactiveMode: Never`);
    const withExec = await modulesOf(namespace, ['--kubeconfig', exec]);
    expect(withExec.some((url) => url.endsWith('/src/client/exec-authenticator.ts'))).toBe(true);
    expect(withExec.filter((url) => CLIENT_NODE.test(url))).toEqual([]);
  });

  it('an auth-provider user loads it, on its first request (the hook sees client-node when it is there)', async () => {
    const { namespace, token } = await operatorAccount('lean-authprovider');
    // client-node's oidc provider sends a still-valid id-token as it is: a ServiceAccount token is one.
    const modules = await modulesOf(namespace, [
      '--kubeconfig',
      kubeconfigFor(`auth-provider:
  name: oidc
  config: { client-id: pod-sync, idp-issuer-url: https://issuer.invalid, id-token: ${token} }`),
    ]);
    expect(modules.some((url) => CLIENT_NODE.test(url))).toBe(true);
  });
});
