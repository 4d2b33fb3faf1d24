import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock, captureLogs } from '../testing/index.ts';
import { ExecAuthenticator, execClusterOf } from './exec-authenticator.ts';
import { anonymousConfig, type ExecProviderConfig } from './rest-config.ts';

/**
 * A plugin (a Node script) that counts its runs in `runs`, prints token `tok-<n>` with the expiry in
 * `expiry` (if any), writes KUBERNETES_EXEC_INFO and its env to `seen`, and a stderr line that
 * contains the token.
 */
function plugin(apiVersion = 'client.authentication.k8s.io/v1') {
  const dir = mkdtempSync(join(tmpdir(), 'exec-plugin-'));
  const script = join(dir, 'plugin.mjs');
  writeFileSync(join(dir, 'runs'), '0');
  writeFileSync(
    script,
    `import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const dir = ${JSON.stringify(dir)};
const n = Number(readFileSync(dir + '/runs', 'utf8')) + 1;
writeFileSync(dir + '/runs', String(n));
writeFileSync(dir + '/seen', JSON.stringify({ info: process.env.KUBERNETES_EXEC_INFO, extra: process.env.EXTRA ?? null }));
if (existsSync(dir + '/fail')) { process.stderr.write('cannot reach the identity provider\\n'); process.exit(3); }
const expiry = existsSync(dir + '/expiry') ? readFileSync(dir + '/expiry', 'utf8') : undefined;
const out = existsSync(dir + '/output') ? readFileSync(dir + '/output', 'utf8') : JSON.stringify({
  apiVersion: ${JSON.stringify(apiVersion)}, kind: 'ExecCredential',
  status: { token: 'tok-' + n, ...(expiry ? { expirationTimestamp: expiry } : {}) },
});
process.stderr.write('issued tok-' + n + ' to you\\nsecond line\\n');
process.stdout.write(out);
`,
  );
  const exec: ExecProviderConfig = {
    command: process.execPath,
    args: [script],
    env: [{ name: 'EXTRA', value: 'from-kubeconfig' }],
    apiVersion,
    installHint: '',
    provideClusterInfo: false,
    interactiveMode: 'Never',
    config: null,
  };
  return {
    dir,
    exec,
    runs: () => Number(readFileSync(join(dir, 'runs'), 'utf8')),
    seen: () => JSON.parse(readFileSync(join(dir, 'seen'), 'utf8')) as { info: string; extra: string | null },
    set: (name: string, value: string) => {
      writeFileSync(join(dir, name), value);
    },
  };
}

describe('ExecAuthenticator (client-go exec.go)', () => {
  it('runs the plugin once for concurrent callers and caches the credential until expirationTimestamp', async () => {
    const p = plugin();
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    p.set('expiry', '2026-01-01T00:10:00Z');
    const auth = new ExecAuthenticator(p.exec, undefined, { clock, environ: { PATH: process.env.PATH } });
    const [a, b] = await Promise.all([auth.credential(), auth.credential()]);
    expect(a.token).toBe('tok-1');
    expect(b).toBe(a);
    clock.setTime(Date.parse('2026-01-01T00:10:00Z'));
    expect((await auth.credential()).token).toBe('tok-1'); // not after it yet: no leeway
    clock.step(1);
    expect((await auth.credential()).token).toBe('tok-2');
    expect(p.runs()).toBe(2);
  });

  it('keeps a credential without expiry until a 401, then runs once for every request that got it', async () => {
    const p = plugin();
    const auth = new ExecAuthenticator(p.exec, undefined, { clock: new FakeClock() });
    const first = await auth.credential();
    expect((await auth.credential()).token).toBe('tok-1');
    // Three requests in flight with the first credential all get a 401.
    await Promise.all([
      auth.refreshAfterUnauthorized(first),
      auth.refreshAfterUnauthorized(first),
      auth.refreshAfterUnauthorized(first),
    ]);
    expect(p.runs()).toBe(2);
    const second = await auth.credential();
    expect(second.token).toBe('tok-2');
    // A late 401 of a request sent with the first credential does not run it again.
    await auth.refreshAfterUnauthorized(first);
    expect(p.runs()).toBe(2);
  });

  it('passes KUBERNETES_EXEC_INFO (spec.interactive, spec.cluster when asked) and the env entries', async () => {
    const p = plugin();
    const config = {
      ...anonymousConfig('https://api:6443'),
      execProvider: { ...p.exec, provideClusterInfo: true, config: { audience: 'a' } },
    };
    config.tls.caData = Buffer.from('CA-PEM');
    config.tls.serverName = 'api.internal';
    const auth = new ExecAuthenticator(config.execProvider, execClusterOf(config), {
      environ: { PATH: process.env.PATH, EXTRA: 'from-parent' },
    });
    await auth.credential();
    const seen = p.seen();
    expect(seen.extra).toBe('from-kubeconfig');
    expect(JSON.parse(seen.info)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: {
        cluster: {
          server: 'https://api:6443',
          'tls-server-name': 'api.internal',
          'certificate-authority-data': Buffer.from('CA-PEM').toString('base64'),
          config: { audience: 'a' },
        },
        interactive: false,
      },
    });
    const withoutCluster = new ExecAuthenticator(p.exec, execClusterOf(config), { environ: {} });
    await withoutCluster.credential();
    expect(JSON.parse(p.seen().info)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: { interactive: false },
    });
  });

  it('honours interactiveMode: stdin only on a terminal, Always fails without one', async () => {
    const p = plugin();
    const ifAvailable = new ExecAuthenticator({ ...p.exec, interactiveMode: 'IfAvailable' }, undefined, {
      isTerminal: () => false,
    });
    await ifAvailable.credential();
    expect(JSON.parse(p.seen().info)).toMatchObject({ spec: { interactive: false } });
    // Without an injected check, whether our stdin is a terminal: always a boolean on the wire.
    await new ExecAuthenticator({ ...p.exec, interactiveMode: 'IfAvailable' }, undefined, {}).credential();
    const spec = (JSON.parse(p.seen().info) as { spec: { interactive: unknown } }).spec;
    expect(typeof spec.interactive).toBe('boolean');
    const always = new ExecAuthenticator({ ...p.exec, interactiveMode: 'Always' }, undefined, {
      isTerminal: () => false,
    });
    await expect(always.credential()).rejects.toThrow(
      'exec plugin cannot support interactive mode: standard input is not a terminal',
    );
    expect(p.runs()).toBe(2);
  });

  it('checks the output as client-go does', async () => {
    const p = plugin();
    const auth = () => new ExecAuthenticator(p.exec, undefined, { environ: {} });
    p.set(
      'output',
      JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        kind: 'ExecCredential',
        status: { token: 'x' },
      }),
    );
    await expect(auth().credential()).rejects.toThrow(
      'exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1',
    );
    p.set(
      'output',
      JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential' }),
    );
    await expect(auth().credential()).rejects.toThrow("exec plugin didn't return a status field");
    p.set(
      'output',
      JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {} }),
    );
    await expect(auth().credential()).rejects.toThrow("exec plugin didn't return a token or cert/key pair");
    p.set(
      'output',
      JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: { clientCertificateData: 'x' },
      }),
    );
    await expect(auth().credential()).rejects.toThrow(
      'exec plugin returned only certificate or key, not both',
    );
    p.set('fail', '');
    await expect(auth().credential()).rejects.toThrow(
      `exec: executable ${process.execPath} failed with exit code 3`,
    );
  });

  it('names a missing executable with the install hint, then keeps the last credential when a refresh fails', async () => {
    const missing = new ExecAuthenticator(
      {
        ...plugin().exec,
        command: '/nonexistent/aws-iam-authenticator',
        installHint: 'brew install aws-iam-authenticator',
      },
      undefined,
      { environ: {} },
    );
    await expect(missing.credential()).rejects.toThrow(
      /^exec: executable \/nonexistent\/aws-iam-authenticator not found\. It looks like .*brew install aws-iam-authenticator$/,
    );

    const p = plugin();
    const { logger, lines } = captureLogs();
    const auth = new ExecAuthenticator(p.exec, undefined, { environ: {}, logger });
    const first = await auth.credential();
    p.set('fail', '');
    await auth.refreshAfterUnauthorized(first);
    expect(await auth.credential()).toBe(first);
    expect(lines.find((l) => l.msg === 'refreshing credentials after a 401')).toMatchObject({ level: 50 });
  });

  it("logs the plugin's stderr one line each, without the credential", async () => {
    const p = plugin();
    const { logger, lines } = captureLogs();
    const auth = new ExecAuthenticator(p.exec, undefined, { environ: {}, logger });
    await auth.credential();
    const stderr = lines.filter((l) => l.msg === 'exec plugin stderr').map((l) => l.stderr);
    expect(stderr).toEqual(['issued [REDACTED] to you', 'second line']);
    expect(JSON.stringify(lines)).not.toContain('tok-1');
  });
});
