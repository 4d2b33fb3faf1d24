// Every kubeconfig shape kubectl accepts that client-go's clientcmd rules decide, run side by side:
// kubectl and the operator's own loading must reach the API server as the same identity (or both
// fail). The expected identity is written out too, so agreeing on a wrong one fails as well.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKubeConfig, createNamespace, serviceAccountToken } from '../helpers/cluster.ts';
import { clusterCaPem } from '../helpers/in-cluster.ts';
import { bothIdentities, kubectlProxy, type ClientRun, type Identity } from './parity.ts';

const PLUGIN = join(import.meta.dirname, 'fixtures', 'token-plugin.ts');

let namespace: string;
let tokens: { alice: string; bob: string; admin: string };
let server: string;
let caData: string;
let root: string;
let elsewhere: string;
const cleanups: (() => void)[] = [];

const sa = (name: string) => `system:serviceaccount:${namespace}:${name}`;

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A fresh folder for one shape's files. */
function folder(): string {
  return mkdtempSync(join(root, 'shape-'));
}

/** clusters/users/contexts YAML with one context `ctx` on cluster `c` as user `u`. */
function kubeconfig(opts: { cluster?: string; user: string; currentContext?: boolean }): string {
  const cluster = opts.cluster ?? `server: ${server}\ncertificate-authority-data: ${caData}`;
  const indent = (text: string) => text.replace(/^/gm, '    ');
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${indent(cluster)}
users:
- name: u
  user:
${indent(opts.user)}
contexts:
- name: ctx
  context: { cluster: c, user: u }
${opts.currentContext === false ? '' : 'current-context: ctx\n'}`;
}

async function expectIdentity(run: ClientRun, expected: string): Promise<Identity> {
  const { kubectl, ours } = await bothIdentities(run);
  expect(kubectl, 'kubectl').toMatchObject({ username: expected });
  expect(ours, 'the operator').toEqual(kubectl);
  return ours;
}

beforeAll(async () => {
  namespace = await createNamespace('kubeconfig');
  tokens = {
    alice: await serviceAccountToken(namespace, 'alice'),
    bob: await serviceAccountToken(namespace, 'bob'),
    admin: adminKubeConfig().getCurrentUser()?.token ?? '',
  };
  server = inject('server');
  caData = Buffer.from(clusterCaPem()).toString('base64');
  root = mkdtempSync(join(tmpdir(), 'kubeconfig-shapes-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'cwd-'));
});

afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('kubeconfig shapes, side by side with kubectl', () => {
  it('$KUBECONFIG as a list: one file holds current-context, another the rest', async () => {
    const d = folder();
    const a = write(join(d, 'a.yaml'), 'apiVersion: v1\nkind: Config\ncurrent-context: ctx\n');
    const b = write(join(d, 'b.yaml'), kubeconfig({ user: `token: ${tokens.alice}`, currentContext: false }));
    await expectIdentity({ cwd: elsewhere, env: { KUBECONFIG: `${a}:${b}` } }, sa('alice'));
  });

  it('$KUBECONFIG with missing files and a later file that redefines the user: the first definition wins', async () => {
    const d = folder();
    const a = write(join(d, 'a.yaml'), 'current-context: ctx\n');
    const b = write(join(d, 'b.yaml'), kubeconfig({ user: `token: ${tokens.alice}`, currentContext: false }));
    const c = write(join(d, 'c.yaml'), kubeconfig({ user: `token: ${tokens.bob}` }));
    const list = [join(d, 'missing.yaml'), a, join(d, 'gone', 'x'), b, c].join(':');
    await expectIdentity({ cwd: elsewhere, env: { KUBECONFIG: list } }, sa('alice'));
  });

  it('tokenFile and certificate-authority relative to the kubeconfig, started from another folder', async () => {
    const d = folder();
    write(join(d, 'sub', 'ca.crt'), clusterCaPem());
    write(join(d, 'sub', 'tokens', 'alice'), `${tokens.alice}\n`);
    const config = write(
      join(d, 'sub', 'config'),
      kubeconfig({
        cluster: `server: ${server}\ncertificate-authority: ca.crt`,
        user: 'tokenFile: tokens/alice',
      }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config }, sa('alice'));
    // A relative $KUBECONFIG entry: references still resolve against the file's folder.
    await expectIdentity({ cwd: d, env: { KUBECONFIG: join('sub', 'config') } }, sa('alice'));
  });

  it('token and tokenFile together: the file wins', async () => {
    const d = folder();
    write(join(d, 'bob-token'), tokens.bob);
    const config = write(
      join(d, 'config'),
      kubeconfig({ user: `token: ${tokens.alice}\ntokenFile: bob-token` }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config }, sa('bob'));
  });

  it('exec plugin v1 with provideClusterInfo, env and a command relative to the kubeconfig: same identity, same KUBERNETES_EXEC_INFO', async () => {
    const d = folder();
    write(join(d, 'alice-token'), tokens.alice);
    const script = write(
      join(d, 'bin', 'plugin.sh'),
      `#!/bin/sh\nexec "${process.execPath}" "${PLUGIN}" "$@"\n`,
    );
    chmodSync(script, 0o755);
    const config = write(
      join(d, 'config'),
      kubeconfig({
        cluster: `server: ${server}
certificate-authority-data: ${caData}
extensions:
- name: client.authentication.k8s.io/exec
  extension: { audience: parity-test, retries: 2 }`,
        user: `exec:
  apiVersion: client.authentication.k8s.io/v1
  command: ./bin/plugin.sh
  args: [${join(d, 'alice-token')}, ${join(d, 'info.jsonl')}]
  env: [{ name: PLUGIN_API_VERSION, value: client.authentication.k8s.io/v1 }]
  interactiveMode: IfAvailable
  provideClusterInfo: true`,
      }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config }, sa('alice'));
    // One JSON per run (kubectl's ends in a newline of its own, hence the blank lines).
    const infos = readFileSync(join(d, 'info.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
    expect(infos).toHaveLength(2);
    expect(infos[0]).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server, 'certificate-authority-data': caData } },
    });
    expect(infos[1]).toEqual(infos[0]);
  });

  it('exec plugin v1beta1 found on PATH, interactiveMode left to its default', async () => {
    const d = folder();
    write(join(d, 'alice-token'), tokens.alice);
    const config = write(
      join(d, 'config'),
      kubeconfig({
        user: `exec:
  apiVersion: client.authentication.k8s.io/v1beta1
  command: node
  args: [${PLUGIN}, ${join(d, 'alice-token')}]
  env: [{ name: PLUGIN_API_VERSION, value: client.authentication.k8s.io/v1beta1 }]`,
      }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config }, sa('alice'));
  });

  it('impersonation: as, as-groups', async () => {
    const d = folder();
    const config = write(
      join(d, 'config'),
      kubeconfig({
        user: `token: ${tokens.admin}\nas: ${sa('bob')}\nas-groups: [system:serviceaccounts, team-b]`,
      }),
    );
    const identity = await expectIdentity({ cwd: elsewhere, kubeconfig: config }, sa('bob'));
    expect(identity).toMatchObject({ groups: expect.arrayContaining(['team-b']) as unknown });
  });

  it('--master overrides the server of the kubeconfig and clears its tls-server-name', async () => {
    const d = folder();
    const config = write(
      join(d, 'config'),
      kubeconfig({
        cluster: `server: https://127.0.0.1:1\ntls-server-name: wrong.example\ncertificate-authority-data: ${caData}`,
        user: `token: ${tokens.alice}`,
      }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config, master: server }, sa('alice'));
  });

  it("http servers (kubectl proxy): plain HTTP and no credentials, so the proxy's identity, by kubeconfig and by --master", async () => {
    const proxy = await kubectlProxy(inject('kubeconfig'));
    cleanups.push(() => proxy.child.kill('SIGKILL'));
    const d = folder();
    // The proxy would pass alice's token through if it were sent: it is not, so the proxy's admin it is.
    const config = write(
      join(d, 'config'),
      kubeconfig({ cluster: `server: ${proxy.url}`, user: `token: ${tokens.alice}` }),
    );
    await expectIdentity({ cwd: elsewhere, kubeconfig: config }, 'pod-sync-admin');
    const https = write(join(d, 'https'), kubeconfig({ user: `token: ${tokens.alice}` }));
    await expectIdentity({ cwd: elsewhere, kubeconfig: https, master: proxy.url }, 'pod-sync-admin');
  });

  it('both refuse insecure-skip-tls-verify together with a CA', async () => {
    const d = folder();
    const config = write(
      join(d, 'config'),
      kubeconfig({
        cluster: `server: ${server}\ninsecure-skip-tls-verify: true\ncertificate-authority-data: ${caData}`,
        user: `token: ${tokens.alice}`,
      }),
    );
    const { kubectl, ours } = await bothIdentities({ cwd: elsewhere, kubeconfig: config });
    expect(kubectl).toMatchObject({
      error: expect.stringMatching(/root certificates file with the insecure flag/) as unknown,
    });
    expect(ours).toMatchObject({
      error: expect.stringMatching(/insecure-skip-tls-verify with a certificate authority/) as unknown,
    });
  });
});
