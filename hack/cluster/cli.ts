// `make cluster` / `make cluster-down`: the living cluster (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok and its fake nodes), outliving this command, in .cluster/.
//   node hack/cluster/cli.ts up     start it (or report the one already running), write .cluster/kubeconfig
//   node hack/cluster/cli.ts down   stop it and remove .cluster/
//   node hack/cluster/cli.ts demo   apply examples/demo/ to it (`make run` does, before the operator starts)
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPONENTS, ControlPlane, type Component, type ControlPlaneState } from './control-plane.ts';
import { isAlive, signalGroup } from './process.ts';

const dir = resolve(process.env.POD_SYNC_CLUSTER_DIR ?? '.cluster');
const stateFile = resolve(dir, 'state.json');

function readState(): ControlPlaneState | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState;
}

/** A pid is ours only while it still runs the binary we started: pids are reused. */
function isOurs(state: ControlPlaneState, name: Component): boolean {
  const pid = (state.pids as Partial<ControlPlaneState['pids']>)[name] ?? 0;
  if (pid <= 0 || !isAlive(pid)) return false;
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    // A state.json from before the living cluster recorded only the bin dir.
    const command = (state.commands as Partial<ControlPlaneState['commands']> | undefined)?.[name];
    return command ? exe === command : exe.startsWith(state.binDir);
  } catch {
    return true;
  }
}

function allRunning(state: ControlPlaneState | undefined): boolean {
  return state?.living === true && COMPONENTS.every((name) => isOurs(state, name));
}

async function up(): Promise<void> {
  const state = readState();
  if (allRunning(state)) {
    console.log(`cluster already running at ${state?.server}; kubeconfig: ${state?.kubeconfig}`);
    return;
  }
  // A cluster with a component gone (or from an older layout) is not worth saving: start afresh.
  if (state) await down();
  const started = Date.now();
  const cp = await ControlPlane.start({ dir, guarded: false, living: true });
  writeFileSync(stateFile, JSON.stringify(cp.state, null, 2));
  // The matching kubectl, so `PATH=.cluster/bin:$PATH kubectl ...` needs nothing installed.
  mkdirSync(resolve(dir, 'bin'), { recursive: true });
  symlinkSync(cp.binaries.kubectl, resolve(dir, 'bin', 'kubectl'));
  console.log(`cluster ready at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  nodes:      ${cp.nodes.map((n) => `${n.name} (${n.zone})`).join(', ')}`);
  console.log(`  kubeconfig: ${cp.kubeconfigPath}`);
  console.log(`  kubectl:    ${dir}/bin/kubectl`);
  console.log(`  logs:       ${dir}/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kwok}.log`);
  console.log('  stop it:    make cluster-down');
}

function demo(): void {
  const state = readState();
  if (!state || !allRunning(state)) throw new Error('no cluster running: start it with make cluster');
  const manifests = fileURLToPath(new URL('../../examples/demo/', import.meta.url));
  const kubectl = resolve(state.binDir, 'kubectl');
  const applied = spawnSync(kubectl, ['--kubeconfig', state.kubeconfig, 'apply', '-f', manifests], {
    stdio: 'inherit',
  });
  if (applied.status !== 0) throw new Error(`kubectl apply -f ${manifests} failed`);
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    // Reverse start order: the clients of kube-apiserver first, etcd last, so that none spends its
    // shutdown retrying a vanished server.
    for (const name of [...COMPONENTS].reverse()) {
      if (!isOurs(state, name)) continue;
      const pid = state.pids[name];
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      signalGroup(pid, 'SIGKILL');
    }
    console.log('cluster stopped');
  } else {
    console.log('no cluster running');
  }
  rmSync(dir, { recursive: true, force: true });
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else if (command === 'demo') demo();
  else {
    console.error('usage: node hack/cluster/cli.ts up|down|demo');
    process.exit(2);
  }
} catch (err) {
  console.error(`cluster ${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
