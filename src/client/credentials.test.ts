import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { credentialsFor } from './credentials.ts';
import { anonymousConfig, type RestConfig } from './rest-config.ts';

const config = (fields: Partial<RestConfig>): RestConfig => ({
  ...anonymousConfig('https://127.0.0.1:6443'),
  ...fields,
});
const pem = (label: string) => Buffer.from(`-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);

function tokenFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
  writeFileSync(path, text);
  return path;
}

describe('credentialsFor', () => {
  it('sends a static bearer token', async () => {
    const source = credentialsFor(config({ bearerToken: 'abc' }));
    expect((await source.credentials()).headers).toEqual({ authorization: 'Bearer abc' });
  });

  it('sends basic auth and impersonation, groups and extras as repeated headers', async () => {
    const source = credentialsFor(
      config({
        username: 'admin',
        password: 'secret',
        impersonate: {
          userName: 'alice',
          uid: '42',
          groups: ['dev', 'ops'],
          extra: { 'acme.io/scope': ['a', 'b'] },
        },
      }),
    );
    expect((await source.credentials()).headers).toEqual({
      authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}`,
      'impersonate-user': 'alice',
      'impersonate-uid': '42',
      'impersonate-group': ['dev', 'ops'],
      'impersonate-extra-acme.io%2fscope': ['a', 'b'],
    });
  });

  it('reads a token file, trimmed, once a minute and again after a 401, keeping the last good token', async () => {
    const path = tokenFile('first\n');
    const clock = new FakeClock();
    const source = credentialsFor(config({ bearerToken: 'first', bearerTokenFile: path }), { clock });
    const first = await source.credentials();
    expect(first.headers.authorization).toBe('Bearer first');
    writeFileSync(path, 'rotated\n');
    expect((await source.credentials()).headers.authorization).toBe('Bearer first');
    await source.onUnauthorized(first);
    expect((await source.credentials()).headers.authorization).toBe('Bearer rotated');
    writeFileSync(path, '');
    clock.step(60_000);
    expect((await source.credentials()).headers.authorization).toBe('Bearer rotated');
  });

  it('prefers a readable token file over a static token, and falls back to the token', async () => {
    const path = tokenFile('from-file');
    expect(
      (await credentialsFor(config({ bearerToken: 'inline', bearerTokenFile: path })).credentials()).headers,
    ).toEqual({
      authorization: 'Bearer from-file',
    });
    const gone = join(tmpdir(), 'no-such-token-file');
    expect(
      (await credentialsFor(config({ bearerToken: 'inline', bearerTokenFile: gone })).credentials()).headers,
    ).toEqual({
      authorization: 'Bearer inline',
    });
  });

  it('presents the client certificate', async () => {
    const source = credentialsFor(
      config({
        tls: { ...anonymousConfig('https://x').tls, certData: pem('CERTIFICATE'), keyData: pem('KEY') },
      }),
    );
    const { identity, headers } = await source.credentials();
    expect(identity?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(identity?.key.toString()).toContain('BEGIN KEY');
    expect(headers).toEqual({});
  });

  it('runs an exec plugin only when no token, basic auth or certificate is set', async () => {
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'from-plugin' },
    };
    const execProvider = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: process.execPath,
      args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`],
      env: [],
      installHint: '',
      provideClusterInfo: false,
      interactiveMode: 'Never' as const,
      config: null,
    };
    const source = credentialsFor(config({ execProvider }));
    const used = await source.credentials();
    expect(used.headers).toEqual({ authorization: 'Bearer from-plugin' });
    expect(await source.credentials()).toBe(used);
    expect(
      (await credentialsFor(config({ execProvider, bearerToken: 'tok' })).credentials()).headers,
    ).toEqual({
      authorization: 'Bearer tok',
    });
  });
});
