import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientConfig } from './client-config.ts';
import { decodeKubeconfig } from './decode.ts';
import { loadKubeconfigFiles } from './loader.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'clientcmd-'));

function file(folder: string, name: string, text: string): string {
  const path = join(folder, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A kubeconfig with one context `x` on cluster `c` and user `u`. */
const single = (cluster: string, user: string, extra = '') => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${cluster.replace(/^/gm, '    ')}
users:
- name: u
  user:
${user.replace(/^/gm, '    ')}
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
${extra}`;

const configOf = (text: string, overrides = {}) =>
  clientConfig(decodeKubeconfig(text, '/k/config'), overrides);

describe('loadKubeconfigFiles: merging (client-go loader.go Load)', () => {
  it('takes each map entry whole from the first file that names it, and current-context from the first that sets it', () => {
    const d = dir();
    const first = file(
      d,
      'first',
      `clusters: [{ name: c, cluster: { server: https://first } }]
users: [{ name: u, user: { token: first-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
`,
    );
    const second = file(
      d,
      'second',
      `current-context: x
clusters:
- { name: c, cluster: { server: https://second, insecure-skip-tls-verify: true } }
- { name: other, cluster: { server: https://other } }
users: [{ name: u, user: { token: second-token, as: someone } }]
`,
    );
    const third = file(d, 'third', 'current-context: y\n');
    const { config, files, missing } = loadKubeconfigFiles({
      precedence: [join(d, 'missing'), first, second, third],
    });
    expect(files).toEqual([first, second, third]);
    expect(missing).toEqual([join(d, 'missing')]);
    expect(config.currentContext).toBe('x');
    expect(config.clusters.get('c')).toMatchObject({ server: 'https://first', insecureSkipTlsVerify: false });
    expect(config.clusters.get('other')?.server).toBe('https://other');
    // Not a field-by-field merge: the second file's `as` is dropped with its entry.
    expect(config.authInfos.get('u')).toMatchObject({ token: 'first-token', impersonate: '' });
  });

  it('reads only the explicit file, and fails when it is missing', () => {
    const d = dir();
    expect(() => loadKubeconfigFiles({ explicitPath: join(d, 'nope'), precedence: [] })).toThrow(
      /no such file/,
    );
  });

  it('resolves file references against the folder of the file that names them, exactly clientcmd list', () => {
    const d = dir();
    const path = file(
      d,
      'sub/config',
      single(
        'server: https://s\ncertificate-authority: ca.pem\nproxy-url: ""',
        'client-certificate: certs/c.pem\nclient-key: /abs/k.pem\ntokenFile: token\nexec: { apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin, interactiveMode: Never }',
      ),
    );
    const bare = file(
      d,
      'other/config',
      `users: [{ name: w, user: { exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: aws } } }]`,
    );
    const { config } = loadKubeconfigFiles({ precedence: [path, bare] });
    expect(config.clusters.get('c')?.certificateAuthority).toBe(join(d, 'sub', 'ca.pem'));
    const u = config.authInfos.get('u');
    expect(u).toMatchObject({
      clientCertificate: join(d, 'sub', 'certs', 'c.pem'),
      clientKey: '/abs/k.pem',
      tokenFile: join(d, 'sub', 'token'),
    });
    expect(u?.exec?.command).toBe(join(d, 'sub', 'bin', 'plugin'));
    // A bare command is looked up on PATH; v1beta1 defaults interactiveMode to IfAvailable.
    expect(config.authInfos.get('w')?.exec).toMatchObject({ command: 'aws', interactiveMode: 'IfAvailable' });
  });
});

describe('decodeKubeconfig', () => {
  it('keeps plain scalars as strings (a token of digits, a server name like a number)', () => {
    const config = decodeKubeconfig(single('server: https://s', 'token: 123e4567'), 'f');
    expect(config.authInfos.get('u')?.token).toBe('123e4567');
  });

  it('reads JSON kubeconfigs and an empty file as an empty config', () => {
    const json = decodeKubeconfig(
      JSON.stringify({
        'current-context': 'x',
        clusters: [{ name: 'c', cluster: { server: 'https://j', 'insecure-skip-tls-verify': true } }],
      }),
      'f',
    );
    expect(json.clusters.get('c')).toMatchObject({ server: 'https://j', insecureSkipTlsVerify: true });
    expect(decodeKubeconfig('', 'f').clusters.size).toBe(0);
  });

  it('refuses duplicate names in one file, a wrong apiVersion or kind, bad base64', () => {
    expect(() =>
      decodeKubeconfig('clusters: [{ name: c, cluster: {} }, { name: c, cluster: {} }]', 'f'),
    ).toThrow('kubeconfig f: duplicate cluster name "c"');
    expect(() => decodeKubeconfig('apiVersion: v2\n', 'f')).toThrow(/apiVersion "v2" is not v1/);
    expect(() => decodeKubeconfig('kind: Pod\n', 'f')).toThrow(/kind "Pod" is not Config/);
    expect(() =>
      decodeKubeconfig(single('server: https://s\ncertificate-authority-data: "@@"', ''), 'f'),
    ).toThrow(/certificate-authority-data is not base64/);
  });

  it('records keys outside the schema, which clientConfig reports as warnings', () => {
    const result = configOf(single('server: https://s\ncolour: blue', 'token: t\ntokenfile: /typo'));
    expect(result.warnings).toEqual([
      'kubeconfig cluster "c": unknown field "colour" ignored',
      'kubeconfig user "u": unknown field "tokenfile" ignored',
    ]);
  });
});

describe('clientConfig (client-go client_config.go ClientConfig)', () => {
  it('builds host, TLS and a token for an https server', () => {
    const ca = Buffer.from('CA').toString('base64');
    const result = configOf(
      single(
        `server: https://s:6443/prefix/?q=1\ncertificate-authority-data: ${ca}\ntls-server-name: api.internal`,
        'token: t',
      ),
    );
    expect(result.config).toMatchObject({
      host: 'https://s:6443/prefix',
      bearerToken: 't',
      tls: { caData: Buffer.from('CA'), serverName: 'api.internal', insecure: false },
    });
    expect(result).toMatchObject({ context: 'x', cluster: 'c', user: 'u' });
  });

  it('--master overrides the server and clears the kubeconfig tls-server-name (getCluster)', () => {
    const result = configOf(single('server: https://s\ntls-server-name: api.internal', 'token: t'), {
      server: 'https://10.0.0.9:6443',
    });
    expect(result.config.host).toBe('https://10.0.0.9:6443');
    expect(result.config.tls.serverName).toBe('');
  });

  it('sends neither credentials nor TLS settings to an http server; a server without a scheme is http', () => {
    const result = configOf(
      single('server: http://127.0.0.1:8001\ninsecure-skip-tls-verify: true', 'token: t\nas: alice'),
    );
    expect(result.config).toMatchObject({
      host: 'http://127.0.0.1:8001',
      bearerToken: '',
      tls: { insecure: false },
    });
    // Impersonation is not a secret: client-go sets it before the TLS check.
    expect(result.config.impersonate?.userName).toBe('alice');
    expect(configOf(single('server: 127.0.0.1:6443', 'token: t')).config.host).toBe('http://127.0.0.1:6443');
  });

  it('reads a tokenFile now (trimmed) and keeps it for re-reads; token and tokenFile together keep both', () => {
    const d = dir();
    const token = file(d, 'token', 'from-file\n');
    expect(configOf(single('server: https://s', `tokenFile: ${token}`)).config).toMatchObject({
      bearerToken: 'from-file',
      bearerTokenFile: token,
    });
    expect(configOf(single('server: https://s', `token: inline\ntokenFile: ${token}`)).config).toMatchObject({
      bearerToken: 'inline',
      bearerTokenFile: token,
    });
    expect(() => configOf(single('server: https://s', `tokenFile: ${join(d, 'missing')}`))).toThrow(
      /user "u": tokenFile .*missing: ENOENT/,
    );
  });

  it('carries impersonation, basic auth, exec with the cluster extension, and an auth provider', () => {
    const exec = configOf(
      single(
        `server: https://s
extensions:
- name: client.authentication.k8s.io/exec
  extension: { audience: sts, retries: 3 }`,
        `as: alice
as-uid: "42"
as-groups: [dev, ops]
as-user-extra: { scopes: [a, b] }
exec:
  apiVersion: client.authentication.k8s.io/v1
  command: plugin
  args: [--x]
  env: [{ name: A, value: "1" }]
  interactiveMode: Never
  provideClusterInfo: true`,
      ),
    ).config;
    expect(exec.impersonate).toEqual({
      userName: 'alice',
      uid: '42',
      groups: ['dev', 'ops'],
      extra: { scopes: ['a', 'b'] },
    });
    expect(exec.execProvider).toMatchObject({
      command: 'plugin',
      args: ['--x'],
      env: [{ name: 'A', value: '1' }],
      provideClusterInfo: true,
      interactiveMode: 'Never',
      config: { audience: 'sts', retries: 3 },
    });
    expect(configOf(single('server: https://s', 'username: a\npassword: b')).config).toMatchObject({
      username: 'a',
      password: 'b',
    });
    expect(
      configOf(
        single('server: https://s', 'auth-provider: { name: oidc, config: { idp-issuer-url: https://i } }'),
      ).config.authProvider,
    ).toEqual({ name: 'oidc', config: { 'idp-issuer-url': 'https://i' } });
  });

  it.each([
    [
      'a CA with insecure-skip-tls-verify',
      'server: https://s\ninsecure-skip-tls-verify: true\ncertificate-authority-data: QUFB',
      'token: t',
      /insecure-skip-tls-verify with a certificate authority is not allowed/,
    ],
    [
      'proxy-url',
      'server: https://s\nproxy-url: http://proxy:3128',
      'token: t',
      /proxy-url is not supported/,
    ],
    [
      'token and basic auth',
      'server: https://s',
      'token: t\nusername: a',
      /more than one authentication method/,
    ],
    ['a certificate without a key', 'server: https://s', 'client-certificate-data: QUFB', /needs client-key/],
    [
      'exec v1 without interactiveMode',
      'server: https://s',
      'exec: { apiVersion: client.authentication.k8s.io/v1, command: p }',
      /needs interactiveMode/,
    ],
    [
      'exec of another apiVersion',
      'server: https://s',
      'exec: { apiVersion: client.authentication.k8s.io/v1alpha1, command: p }',
      /apiVersion "client.authentication.k8s.io\/v1alpha1" is not/,
    ],
    [
      'exec and auth-provider',
      'server: https://s',
      'exec: { apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Never }\nauth-provider: { name: oidc }',
      /auth-provider and exec/,
    ],
    ['as-groups without as', 'server: https://s', 'token: t\nas-groups: [g]', /without as/],
    [
      'an unreadable certificate-authority',
      'server: https://s\ncertificate-authority: /nonexistent/ca.pem',
      'token: t',
      /certificate-authority \/nonexistent\/ca.pem: ENOENT/,
    ],
  ])('refuses %s with one line', (_what, cluster, user, message) => {
    let err: Error | undefined;
    try {
      configOf(single(cluster, user));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message.split('\n')).toHaveLength(1);
  });

  it('refuses a context that names a missing user or cluster, which client-go would run anonymous', () => {
    const text = `clusters: [{ name: c, cluster: { server: https://s } }]
contexts: [{ name: x, context: { cluster: c, user: nobody } }, { name: y, context: { cluster: gone, user: "" } }]
current-context: x
`;
    expect(() => configOf(text)).toThrow('context "x" names user "nobody", which no kubeconfig defines');
    expect(() => configOf(text.replace('current-context: x', 'current-context: y'))).toThrow(
      'context "y" names cluster "gone", which no kubeconfig defines',
    );
  });
});
