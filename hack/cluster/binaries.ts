import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface Binaries {
  /** The k8s cache: every binary below but kwok. */
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  /** From its own module and cache (hack/cluster/kwok); only the living cluster needs it. */
  kwok: string;
}

/** The k8s.io/kubernetes version pinned in k8s/go.mod, e.g. "v1.37.2". */
export function pinnedVersion(): string {
  const gomod = readFileSync(join(here, 'k8s', 'go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(gomod);
  if (!match?.[1]) throw new Error('cannot read the k8s.io/kubernetes pin from hack/cluster/k8s/go.mod');
  return match[1];
}

function inDirs(dir: string, kwokDir: string): Binaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubectl: join(dir, 'kubectl'),
    kwok: join(kwokDir, 'kwok'),
  };
}

/**
 * The local cluster's binaries, built by build.sh into caches outside the clone (minutes the first
 * time, instant after). POD_SYNC_K8S_BIN_DIR points at a directory that already holds them all,
 * kwok included.
 */
export async function ensureBinaries(): Promise<Binaries> {
  const override = process.env.POD_SYNC_K8S_BIN_DIR;
  if (override) {
    const bins = inDirs(override, override);
    for (const path of [
      bins.etcd,
      bins.kubeApiserver,
      bins.kubeControllerManager,
      bins.kubeScheduler,
      bins.kubectl,
      bins.kwok,
    ]) {
      if (!existsSync(path)) throw new Error(`POD_SYNC_K8S_BIN_DIR=${override} has no ${path}`);
    }
    return bins;
  }
  // build.sh reports progress on stderr, which the user should see during a cold build.
  const build = spawn('bash', [join(here, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  build.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const [code] = (await once(build, 'exit')) as [number | null];
  if (code !== 0)
    throw new Error(`building the local control plane failed (hack/cluster/build.sh exit ${code})`);
  const dirs = new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const k8s = dirs.get('k8s');
  const kwok = dirs.get('kwok');
  if (!k8s || !kwok) throw new Error(`hack/cluster/build.sh printed no k8s= and kwok= lines: ${stdout}`);
  return inDirs(k8s, kwok);
}
