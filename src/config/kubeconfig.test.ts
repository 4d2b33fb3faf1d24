import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeConfigError, loadKubeConfig } from './kubeconfig.ts';

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

describe('loadKubeConfig', () => {
  it('prefers --kubeconfig over everything else', () => {
    const { dir, home, sa } = fixture();
    const flag = kubeconfigFile(dir, 'flag', 'https://flag:6443');
    const env = { ...inClusterEnv, KUBECONFIG: kubeconfigFile(dir, 'env', 'https://env:6443') };
    const loaded = loadKubeConfig({ flag, env, home, serviceAccountDir: sa });
    expect(loaded.source).toBe(flag);
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://flag:6443');
  });

  it('then $KUBECONFIG, skipping list entries that do not exist', () => {
    const { dir, home, sa } = fixture();
    const env = {
      ...inClusterEnv,
      KUBECONFIG: `${join(dir, 'missing')}:${kubeconfigFile(dir, 'env', 'https://env:6443')}`,
    };
    const loaded = loadKubeConfig({ env, home, serviceAccountDir: sa });
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://env:6443');
  });

  it('then in-cluster, with the service host and port and the token file', () => {
    const { home, sa } = fixture();
    kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    const loaded = loadKubeConfig({ env: inClusterEnv, home, serviceAccountDir: sa });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
  });

  it('brackets an IPv6 service host', () => {
    const { home, sa } = fixture();
    const loaded = loadKubeConfig({
      env: { ...inClusterEnv, KUBERNETES_SERVICE_HOST: 'fd00::1' },
      home,
      serviceAccountDir: sa,
    });
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
  });

  it('then ~/.kube/config', () => {
    const { home, sa } = fixture();
    const path = kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    const loaded = loadKubeConfig({
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
        loadKubeConfig({ env: {}, home, serviceAccountDir: join(dir, 'none') });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(KubeConfigError);
    expect(error.message).toContain('$KUBECONFIG (unset)');
    expect(error.message).toContain('KUBERNETES_SERVICE_HOST unset');
    expect(error.message).toContain(join(home, '.kube', 'config'));
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('points the found configuration at --master', () => {
    const { dir, home, sa } = fixture();
    const flag = kubeconfigFile(dir, 'flag', 'https://flag:6443');
    const loaded = loadKubeConfig({ flag, master: 'https://10.9.8.7:443/', home, serviceAccountDir: sa });
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://10.9.8.7');
    expect(() => loadKubeConfig({ flag, master: 'not a url', home, serviceAccountDir: sa })).toThrow(
      /--master/,
    );
  });

  it('does not fall through when the --kubeconfig file is missing or malformed', () => {
    const { dir, home, sa } = fixture();
    kubeconfigFile(join(home, '.kube'), 'config', 'https://home:6443');
    expect(() => loadKubeConfig({ flag: join(dir, 'nope'), home, serviceAccountDir: sa })).toThrow(
      /no such file/,
    );
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'clusters: [oops: : :');
    expect(() => loadKubeConfig({ flag: bad, home, serviceAccountDir: sa })).toThrow(
      /not a valid kubeconfig/,
    );
    const noContext = join(dir, 'empty');
    writeFileSync(noContext, 'apiVersion: v1\nkind: Config\n');
    expect(() => loadKubeConfig({ flag: noContext, home, serviceAccountDir: sa })).toThrow(
      /no current-context/,
    );
  });
});
