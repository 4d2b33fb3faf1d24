import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock/fake-clock.ts';
import { credentialsFromKubeConfig } from './credentials.ts';

function kubeConfigWith(user: Record<string, unknown>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

const pem = (label: string) => Buffer.from(`-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);

describe('credentialsFromKubeConfig', () => {
  it('sends a static bearer token', async () => {
    const source = credentialsFromKubeConfig(kubeConfigWith({ token: 'abc' }));
    expect((await source.credentials()).headers).toEqual({ authorization: 'Bearer abc' });
  });

  it('sends basic auth and impersonation', async () => {
    const source = credentialsFromKubeConfig(
      kubeConfigWith({ username: 'admin', password: 'secret', impersonateUser: 'alice' }),
    );
    expect((await source.credentials()).headers).toEqual({
      authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}`,
      'impersonate-user': 'alice',
    });
  });

  it('reads the in-cluster token file, trimmed, and again after a 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const clock = new FakeClock();
    const source = credentialsFromKubeConfig(
      kubeConfigWith({ authProvider: { name: 'tokenFile', config: { tokenFile } } }),
      clock,
    );
    expect((await source.credentials()).headers.authorization).toBe('Bearer first');
    writeFileSync(tokenFile, 'rotated\n');
    expect((await source.credentials()).headers.authorization).toBe('Bearer first');
    source.onUnauthorized();
    expect((await source.credentials()).headers.authorization).toBe('Bearer rotated');
  });

  it('presents the kubeconfig client certificate', async () => {
    const source = credentialsFromKubeConfig(
      kubeConfigWith({
        certData: pem('CERTIFICATE').toString('base64'),
        keyData: pem('KEY').toString('base64'),
      }),
    );
    const { identity, headers } = await source.credentials();
    expect(identity?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(identity?.key.toString()).toContain('BEGIN KEY');
    expect(headers).toEqual({});
  });

  it("gets a token and a client certificate from an exec plugin through client-node's authenticator", async () => {
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'from-plugin', clientCertificateData: 'CERT-PEM', clientKeyData: 'KEY-PEM' },
    };
    const source = credentialsFromKubeConfig(
      kubeConfigWith({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`],
        },
      }),
    );
    const { headers, identity } = await source.credentials();
    expect(headers).toEqual({ authorization: 'Bearer from-plugin' });
    expect(identity).toEqual({ cert: 'CERT-PEM', key: 'KEY-PEM' });
  });
});
