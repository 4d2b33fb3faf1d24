// Client certificates need an API server that trusts a client CA: this file starts a control plane of
// its own with --client-ca-file, and signs users' certificates with openssl.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { HttpRestClient } from '../../src/client/index.ts';
import { loadRestConfig } from '../../src/clientcmd/index.ts';
import { bothIdentities } from './parity.ts';
import { captureLogs } from '../../src/testing/index.ts';

const CERT_PLUGIN = join(import.meta.dirname, 'fixtures', 'cert-plugin.ts');

let cp: ControlPlane;
let dir: string;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** user.crt and user.key for CN=name, O=group, signed by the client CA. */
function issue(name: string, group: string): void {
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}/O=${group}`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
  ]);
}

function kubeconfig(user: string): string {
  const ca = Buffer.from(cp.ca).toString('base64');
  const indent = user.replace(/^/gm, '    ');
  return `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: ${cp.server}, certificate-authority-data: ${ca} } }]
users:
- name: u
  user:
${indent}
contexts: [{ name: ctx, context: { cluster: c, user: u } }]
current-context: ctx
`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-certs-'));
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test-client-ca',
    '-days',
    '1',
  ]);
  issue('carol', 'devs');
  issue('dave', 'ops');
  cp = await ControlPlane.start({ extraApiServerArgs: [`--client-ca-file=${join(dir, 'ca.crt')}`] });
});

afterAll(async () => {
  await cp.stop();
});

describe('client certificates', () => {
  it('client-certificate and client-key files relative to the kubeconfig: the same identity as kubectl', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, kubeconfig('client-certificate: carol.crt\nclient-key: carol.key'));
    const cwd = mkdtempSync(join(tmpdir(), 'cwd-'));
    const { kubectl, ours } = await bothIdentities({ cwd, kubeconfig: config });
    expect(kubectl).toEqual({ username: 'carol', groups: ['devs', 'system:authenticated'] });
    expect(ours).toEqual(kubectl);
  });

  it('a certificate from an exec plugin: the same identity as kubectl', async () => {
    const config = join(dir, 'exec-config');
    writeFileSync(
      config,
      kubeconfig(`exec:
  apiVersion: client.authentication.k8s.io/v1
  command: ${process.execPath}
  args: [${CERT_PLUGIN}, ${join(dir, 'carol.crt')}, ${join(dir, 'carol.key')}]
  interactiveMode: Never`),
    );
    const { kubectl, ours } = await bothIdentities({ cwd: dir, kubeconfig: config });
    expect(kubectl).toMatchObject({ username: 'carol' });
    expect(ours).toEqual(kubectl);
  });

  it('an exec plugin certificate that expires is fetched again, and new connections present the new one', async () => {
    // The plugin serves whatever current.crt/current.key hold, valid for 2 s.
    copyFileSync(join(dir, 'carol.crt'), join(dir, 'current.crt'));
    copyFileSync(join(dir, 'carol.key'), join(dir, 'current.key'));
    const config = join(dir, 'rotating-config');
    writeFileSync(
      config,
      kubeconfig(`exec:
  apiVersion: client.authentication.k8s.io/v1
  command: ${process.execPath}
  args: [${CERT_PLUGIN}, ${join(dir, 'current.crt')}, ${join(dir, 'current.key')}, "2"]
  interactiveMode: Never`),
    );
    const { logger, lines } = captureLogs();
    const client = HttpRestClient.fromConfig(loadRestConfig({ kubeconfig: config }).config, { logger });
    const whoami = async () =>
      (
        await client.post<{ status: { userInfo: { username: string } } }>(
          '/apis/authentication.k8s.io/v1/selfsubjectreviews',
          { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        )
      ).status.userInfo.username;
    try {
      expect(await whoami()).toBe('carol');
      copyFileSync(join(dir, 'dave.crt'), join(dir, 'next.crt'));
      copyFileSync(join(dir, 'dave.key'), join(dir, 'next.key'));
      renameSync(join(dir, 'next.crt'), join(dir, 'current.crt'));
      renameSync(join(dir, 'next.key'), join(dir, 'current.key'));
      expect(await whoami()).toBe('carol'); // still cached
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await whoami()).toBe('dave');
      expect(lines.some((l) => l.msg === 'client certificate changed, new connections use the new one')).toBe(
        true,
      );
    } finally {
      await client.close();
    }
  });
});
