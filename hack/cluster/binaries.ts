import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubectl: string;
}

/** The k8s.io/kubernetes version pinned in k8s/go.mod, e.g. "v1.37.2". */
export function pinnedVersion(): string {
  const gomod = readFileSync(join(here, 'k8s', 'go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(gomod);
  if (!match?.[1]) throw new Error('cannot read the k8s.io/kubernetes pin from hack/cluster/k8s/go.mod');
  return match[1];
}

function inDir(dir: string): Binaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubectl: join(dir, 'kubectl'),
  };
}

/**
 * The control-plane binaries, built by build.sh into a cache outside the clone (minutes the first
 * time, instant after). POD_SYNC_K8S_BIN_DIR points at a directory that already holds them.
 */
export async function ensureBinaries(): Promise<Binaries> {
  const override = process.env.POD_SYNC_K8S_BIN_DIR;
  if (override) {
    const bins = inDir(override);
    for (const path of [bins.etcd, bins.kubeApiserver, bins.kubectl]) {
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
  const dir = stdout.trim().split('\n').pop() ?? '';
  return inDir(dir);
}
