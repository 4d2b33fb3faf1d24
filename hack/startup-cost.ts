// Start-up cost of each configuration path of the built operator (dist/main.js, `npm run build`): time
// from spawn to the "caches synced" log line, and the process's RSS (VmRSS) at that line, over RUNS
// rounds on a control plane of its own (20 pods, --leader-elect). BEFORE_DIST, when given, is another
// build's dist/ to run in-cluster alongside, for a before/after comparison.
// Usage: node hack/startup-cost.ts [RUNS] [BEFORE_DIST]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ControlPlane } from './cluster/control-plane.ts';

const runs = Number(process.argv[2] ?? 5);
const before = process.argv[3];
const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const cp = await ControlPlane.start();
const kubectl = (...args: string[]) =>
  execFileSync(cp.binaries.kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], { encoding: 'utf8' });
try {
  kubectl('create', 'namespace', 'bench');
  kubectl('create', 'serviceaccount', 'operator', '-n', 'bench');
  kubectl(
    'create',
    'clusterrolebinding',
    'bench-operator',
    '--clusterrole=cluster-admin',
    '--serviceaccount=bench:operator',
  );
  const token = kubectl('create', 'token', 'operator', '-n', 'bench', '--duration=2h').trim();
  for (let i = 0; i < 20; i++)
    kubectl('run', `p${i}`, '-n', 'bench', '--image=registry.k8s.io/pause:3.10', '--restart=Never');
  const dir = mkdtempSync(join(tmpdir(), 'startup-'));
  const sa = join(dir, 'sa');
  execFileSync('mkdir', ['-p', sa]);
  writeFileSync(join(sa, 'token'), token);
  writeFileSync(join(sa, 'ca.crt'), cp.ca);
  writeFileSync(join(sa, 'namespace'), 'bench');
  const ca = Buffer.from(cp.ca).toString('base64');
  const kubeconfig = (user: string) => {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}`);
    writeFileSync(
      path,
      `clusters: [{ name: c, cluster: { server: ${cp.server}, certificate-authority-data: ${ca} } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    return path;
  };
  const url = new URL(cp.server);
  const inCluster = {
    args: ['--service-account-dir', sa],
    env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
  };
  const variants: Record<string, { main: string; args: string[]; env?: Record<string, string> }> = {
    ...(before ? { 'in-cluster (before)': { main: join(before, 'main.js'), ...inCluster } } : {}),
    'in-cluster': { main, ...inCluster },
    'kubeconfig, token': { main, args: ['--kubeconfig', kubeconfig(`{ token: ${token} }`)] },
    'kubeconfig, auth-provider (oidc)': {
      main,
      args: [
        '--kubeconfig',
        kubeconfig(
          `{ auth-provider: { name: oidc, config: { client-id: x, idp-issuer-url: https://issuer.invalid, id-token: ${token} } } }`,
        ),
      ],
    },
  };
  const results: Record<string, { ms: number; rssMiB: number }[]> = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, v] of Object.entries(variants)) {
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [
          v.main,
          '--namespace',
          'bench',
          '--leader-elect',
          '--leader-election-namespace',
          'bench',
          '--metrics-bind-address=0',
          '--health-probe-bind-address=0',
          ...v.args,
        ],
        {
          env: { PATH: process.env.PATH, HOME: dir, ...v.env },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const result = await new Promise<{ ms: number; rssMiB: number }>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (!line.includes('"msg":"caches synced"')) return;
          const ms = performance.now() - started;
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
          resolve({ ms, rssMiB: rssKiB / 1024 });
        });
        child.once('exit', (code) => {
          reject(new Error(`${name} exited ${code}`));
        });
      });
      child.kill('SIGKILL');
      (results[name] ??= []).push(result);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  for (const [name, rs] of Object.entries(results)) {
    console.log(
      `${name.padEnd(34)} caches synced: median ${median(rs.map((r) => r.ms)).toFixed(0)} ms [${rs.map((r) => r.ms.toFixed(0)).join(', ')}]; RSS: median ${median(rs.map((r) => r.rssMiB)).toFixed(0)} MiB [${rs.map((r) => r.rssMiB.toFixed(0)).join(', ')}]`,
    );
  }
} finally {
  await cp.stop();
}
