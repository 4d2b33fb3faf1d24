import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError } from './errors.ts';
import { loadRestConfig } from './load-config.ts';

function kubeconfigFile(dir: string, name: string, server: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: ${server} } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  return path;
}

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'namespace'), 'ops');
  return { dir, home, sa };
}

const inClusterEnv = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('loadRestConfig', () => {
  it('prefers --kubeconfig over everything else', () => {
    const { dir, home, sa } = fixture();
    const flag = kubeconfigFile(dir, 'flag', 'https://flag:6443');
    const env = { ...inClusterEnv, KUBECONFIG: kubeconfigFile(dir, 'env', 'https://env:6443') };
    const loaded = loadRestConfig({ kubeconfig: flag, env, home, serviceAccountDir: sa });
    expect(loaded.source).toBe(flag);
    expect(loaded.config.host).toBe('https://flag:6443');
  });

  it('then $KUBECONFIG, skipping list entries that do not exist', () => {
    const { dir, home, sa } = fixture();
    const env = {
      ...inClusterEnv,
      KUBECONFIG: `${join(dir, 'missing')}:${kubeconfigFile(dir, 'env', 'https://env:6443')}`,
    };
    const loaded = loadRestConfig({ env, home, serviceAccountDir: sa });
    expect(loaded.config.host).toBe('https://env:6443');
  });

  it('then in-cluster, with the service host and port and the token file', () => {
    const { home, sa } = fixture();
    kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    const loaded = loadRestConfig({ env: inClusterEnv, home, serviceAccountDir: sa });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.config.host).toBe('https://10.0.0.1:443');
  });

  it('brackets an IPv6 service host', () => {
    const { home, sa } = fixture();
    const loaded = loadRestConfig({
      env: { ...inClusterEnv, KUBERNETES_SERVICE_HOST: 'fd00::1' },
      home,
      serviceAccountDir: sa,
    });
    expect(loaded.config.host).toBe('https://[fd00::1]:443');
  });

  it('then ~/.kube/config', () => {
    const { home, sa } = fixture();
    const path = kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    const loaded = loadRestConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
      home,
      serviceAccountDir: sa,
    });
    expect(loaded.source).toBe(path);
  });

  it('lists everything it tried when nothing works', () => {
    const { home, dir } = fixture();
    const error = (() => {
      try {
        loadRestConfig({ env: {}, home, serviceAccountDir: join(dir, 'none') });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(KubeconfigError);
    expect(error.message).toContain('KUBERNETES_SERVICE_HOST unset');
    expect(error.message).toContain(join(home, '.kube', 'config'));
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('points the found configuration at --master', () => {
    const { dir, home, sa } = fixture();
    const flag = kubeconfigFile(dir, 'flag', 'https://flag:6443');
    const loaded = loadRestConfig({
      kubeconfig: flag,
      master: 'https://10.9.8.7:443/',
      home,
      serviceAccountDir: sa,
    });
    expect(loaded.config.host).toBe('https://10.9.8.7');
    expect(() =>
      loadRestConfig({ kubeconfig: flag, master: 'not a url', home, serviceAccountDir: sa }),
    ).toThrow(/--master/);
  });

  it('does not fall through when the --kubeconfig file is missing or malformed', () => {
    const { dir, home, sa } = fixture();
    kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    expect(() => loadRestConfig({ kubeconfig: join(dir, 'nope'), home, serviceAccountDir: sa })).toThrow(
      /no such file/,
    );
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'clusters: [oops: : :');
    expect(() => loadRestConfig({ kubeconfig: bad, home, serviceAccountDir: sa })).toThrow(
      /kubeconfig .*bad: not valid YAML/,
    );
    const noContext = join(dir, 'empty');
    writeFileSync(noContext, 'apiVersion: v1\nkind: Config\n');
    expect(() => loadRestConfig({ kubeconfig: noContext, home, serviceAccountDir: sa })).toThrow(
      /names no cluster/,
    );
  });
});

describe('loadRestConfig: client-go rules', () => {
  it('merges a $KUBECONFIG list where one file holds only current-context', () => {
    const { dir, home, sa } = fixture();
    const a = join(dir, 'a.yaml');
    writeFileSync(a, 'current-context: x\n');
    const b = kubeconfigFile(dir, 'b.yaml', 'https://b:6443');
    const loaded = loadRestConfig({ env: { KUBECONFIG: `${a}:${b}` }, home, serviceAccountDir: sa });
    expect(loaded.config.host).toBe('https://b:6443');
    expect(loaded.config.bearerToken).toBe('t');
    expect(loaded.source).toBe(`${a}:${b}`);
  });

  it('does not try in-cluster before a set $KUBECONFIG, and falls back to it when every file is missing', () => {
    const { dir, home, sa } = fixture();
    const env = { ...inClusterEnv, KUBECONFIG: `${join(dir, 'gone')}:${join(dir, 'gone2')}` };
    expect(loadRestConfig({ env, home, serviceAccountDir: sa }).source).toBe('in-cluster');
    expect(() =>
      loadRestConfig({ env: { KUBECONFIG: join(dir, 'gone') }, home, serviceAccountDir: sa }),
    ).toThrow(
      /no Kubernetes client configuration found; tried \$KUBECONFIG \(.*gone\): no such file, in-cluster/,
    );
  });

  it('ignores $KUBECONFIG and ~/.kube/config once --kubeconfig is given', () => {
    const { dir, home, sa } = fixture();
    const a = join(dir, 'a.yaml');
    writeFileSync(a, 'current-context: x\n');
    kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    const env = { KUBECONFIG: kubeconfigFile(dir, 'env', 'https://env:6443') };
    expect(() => loadRestConfig({ kubeconfig: a, env, home, serviceAccountDir: sa })).toThrow(
      /current-context "x" is not a context of the kubeconfig/,
    );
  });

  it('works from --master alone (kubectl proxy), anonymous', () => {
    const { dir, home } = fixture();
    const loaded = loadRestConfig({
      master: 'http://127.0.0.1:8001',
      env: {},
      home,
      serviceAccountDir: join(dir, 'none'),
    });
    expect(loaded.config.host).toBe('http://127.0.0.1:8001');
    expect(loaded.config.bearerToken).toBe('');
  });

  it('gives an in-cluster config pointed at an http --master neither token nor CA', () => {
    const { home, sa } = fixture();
    const loaded = loadRestConfig({
      master: 'http://127.0.0.1:8001',
      env: inClusterEnv,
      home,
      serviceAccountDir: sa,
    });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.config).toMatchObject({
      host: 'http://127.0.0.1:8001',
      bearerToken: '',
      bearerTokenFile: '',
    });
    const https = loadRestConfig({
      master: 'https://api:6443',
      env: inClusterEnv,
      home,
      serviceAccountDir: sa,
    });
    expect(https.config).toMatchObject({ host: 'https://api:6443', bearerToken: 'sa-token' });
  });

  it('reads the in-cluster token once, trimmed, and keeps the file for re-reads; a CA that does not parse is a warning', () => {
    const { home, sa } = fixture();
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    writeFileSync(join(sa, 'ca.crt'), 'not a certificate');
    const loaded = loadRestConfig({ env: inClusterEnv, home, serviceAccountDir: sa });
    expect(loaded.config).toMatchObject({ bearerToken: 'sa-token', bearerTokenFile: join(sa, 'token') });
    expect(loaded.config.tls.caFile).toBe('');
    expect(loaded.warnings.join('\n')).toMatch(/expected to load root CA config from .*ca.crt/);
  });

  it('names the file at fault in one line', () => {
    const { dir, home, sa } = fixture();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'clusters: [{ name: c, cluster: { server: https://x, insecure-skip-tls-verify: maybe } }]\n',
    );
    const good = kubeconfigFile(dir, 'good.yaml', 'https://good:6443');
    const err = (() => {
      try {
        loadRestConfig({ env: { KUBECONFIG: `${good}:${bad}` }, home, serviceAccountDir: sa });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KubeconfigError);
    expect(err?.message).toBe(`kubeconfig ${bad}: cluster "c".insecure-skip-tls-verify is not true or false`);
  });
});
