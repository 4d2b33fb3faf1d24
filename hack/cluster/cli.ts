// `make cluster` / `make cluster-down`: a control plane that outlives this command, in .cluster/.
//   node hack/cluster/cli.ts up     start it (or report the one already running), write .cluster/kubeconfig
//   node hack/cluster/cli.ts down   stop it and remove .cluster/
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { ControlPlane, type ControlPlaneState } from './control-plane.ts';
import { isAlive, signalGroup } from './process.ts';

const dir = resolve(process.env.POD_SYNC_CLUSTER_DIR ?? '.cluster');
const stateFile = resolve(dir, 'state.json');

function readState(): ControlPlaneState | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState;
}

/** A pid is ours only while it still runs a binary from our bin dir: pids are reused. */
function isOurs(pid: number, binDir: string): boolean {
  if (pid <= 0 || !isAlive(pid)) return false;
  try {
    return readlinkSync(`/proc/${pid}/exe`).startsWith(binDir);
  } catch {
    return true;
  }
}

async function up(): Promise<void> {
  const state = readState();
  if (state && isOurs(state.pids.apiserver, state.binDir) && isOurs(state.pids.etcd, state.binDir)) {
    console.log(`control plane already running at ${state.server}; kubeconfig: ${state.kubeconfig}`);
    return;
  }
  if (state) await down();
  const cp = await ControlPlane.start({ dir, guarded: false });
  writeFileSync(stateFile, JSON.stringify(cp.state, null, 2));
  // The matching kubectl, so `PATH=.cluster/bin:$PATH kubectl ...` needs nothing installed.
  mkdirSync(resolve(dir, 'bin'), { recursive: true });
  symlinkSync(cp.binaries.kubectl, resolve(dir, 'bin', 'kubectl'));
  console.log(`control plane ready at ${cp.server}`);
  console.log(`  kubeconfig: ${cp.kubeconfigPath}`);
  console.log(`  kubectl:    ${dir}/bin/kubectl`);
  console.log(`  logs:       ${dir}/kube-apiserver.log, ${dir}/etcd.log`);
  console.log('  stop it:    make cluster-down');
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    // kube-apiserver first, so it does not spend its shutdown retrying a vanished etcd.
    for (const pid of [state.pids.apiserver, state.pids.etcd]) {
      if (!isOurs(pid, state.binDir)) continue;
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      signalGroup(pid, 'SIGKILL');
    }
    console.log('control plane stopped');
  } else {
    console.log('no control plane running');
  }
  rmSync(dir, { recursive: true, force: true });
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else {
    console.error('usage: node hack/cluster/cli.ts up|down');
    process.exit(2);
  }
} catch (err) {
  console.error(`cluster ${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
