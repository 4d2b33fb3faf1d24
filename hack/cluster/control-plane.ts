import { randomBytes, generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, type Binaries } from './binaries.ts';
import { compactEtcd, etcdArgs, etcdHealthy } from './etcd.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { freePort } from './ports.ts';
import { isAlive, ManagedProcess } from './process.ts';

export interface ControlPlaneOptions {
  /** State directory (etcd data, certs, logs, kubeconfig). Default: a fresh temp dir, removed by stop(). */
  dir?: string;
  /** Tie the processes' lives to this one (default). `make cluster` turns it off. */
  guarded?: boolean;
  binaries?: Binaries;
  extraApiServerArgs?: string[];
  /** Appended to etcd's flags, e.g. a larger --quota-backend-bytes for the 100,000-pod bench. */
  extraEtcdArgs?: string[];
  /** How long start and restart wait for /readyz. */
  readyTimeoutMs?: number;
}

/** What `make cluster` records so that another process can find and stop the control plane. */
export interface ControlPlaneState {
  server: string;
  kubeconfig: string;
  pids: { etcd: number; apiserver: number };
  binDir: string;
}

const TEMP_PREFIX = 'pod-sync-cp-';
const ADMIN_USER = 'pod-sync-admin';

/**
 * One etcd and one kube-apiserver on loopback, with RBAC on, a static admin token in system:masters,
 * and a service-account issuer so TokenRequest works. There is no kube-controller-manager: no default
 * ServiceAccounts, no garbage collection, no namespace finalization, no Pods from Deployments.
 */
export class ControlPlane {
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly etcdUrl: string;
  readonly binaries: Binaries;
  private readonly ownsDir: boolean;
  private readonly options: ControlPlaneOptions;
  private readonly apiPort: number;
  private etcd: ManagedProcess | undefined;
  private apiserver: ManagedProcess | undefined;
  private caPem = '';

  private constructor(init: {
    dir: string;
    ownsDir: boolean;
    options: ControlPlaneOptions;
    binaries: Binaries;
    apiPort: number;
    etcdPort: number;
  }) {
    this.dir = init.dir;
    this.ownsDir = init.ownsDir;
    this.options = init.options;
    this.binaries = init.binaries;
    this.apiPort = init.apiPort;
    this.server = `https://127.0.0.1:${init.apiPort}`;
    this.etcdUrl = `http://127.0.0.1:${init.etcdPort}`;
    this.kubeconfigPath = join(init.dir, 'kubeconfig');
    this.token = randomBytes(24).toString('hex');
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    removeStaleTempDirs();
    const binaries = options.binaries ?? (await ensureBinaries());
    // A free port can be taken between our probe and the binary's bind: try again with new ones.
    for (let attempt = 1; ; attempt++) {
      const ownsDir = options.dir === undefined;
      const dir = options.dir ?? mkdtempSync(join(tmpdir(), TEMP_PREFIX));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'owner.pid'), String(process.pid));
      const [apiPort, etcdPort, peerPort] = [await freePort(), await freePort(), await freePort()];
      const cp = new ControlPlane({ dir, ownsDir, options, binaries, apiPort, etcdPort });
      try {
        await cp.startEtcd(etcdPort, peerPort);
        cp.writeStaticFiles();
        await cp.startApiServer();
        cp.caPem = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
        writeFileSync(
          cp.kubeconfigPath,
          renderKubeconfig({ name: 'pod-sync-local', server: cp.server, caPem: cp.caPem, token: cp.token }),
          { mode: 0o600 },
        );
        return cp;
      } catch (err) {
        await cp.stop();
        if (attempt >= 3) throw err;
      }
    }
  }

  get state(): ControlPlaneState {
    return {
      server: this.server,
      kubeconfig: this.kubeconfigPath,
      pids: { etcd: this.etcd?.pid ?? 0, apiserver: this.apiserver?.pid ?? 0 },
      binDir: this.binaries.dir,
    };
  }

  /** The CA that signed the serving certificate (self-signed by kube-apiserver in its cert dir). */
  get ca(): string {
    return this.caPem;
  }

  /** Stops kube-apiserver and starts it again on the same port with the same etcd data. */
  async restartApiServer(): Promise<void> {
    await this.apiserver?.stop();
    await this.startApiServer();
  }

  /**
   * Compacts etcd to its current revision. Requests that reach etcd with an older resourceVersion now
   * answer 410 Gone; with the watch cache on (the default) the API server still serves the versions its
   * cache holds, so fault tests that need every old version gone pass `--watch-cache=false`.
   */
  async compactEtcd(): Promise<number> {
    return compactEtcd(this.etcdUrl);
  }

  /** Stops kube-apiserver, then etcd, and removes the temp dir it created. Safe to call twice. */
  async stop(): Promise<void> {
    await this.apiserver?.stop();
    await this.etcd?.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** For process exit handlers, which cannot wait. */
  killNow(): void {
    this.apiserver?.killNow();
    this.etcd?.killNow();
  }

  private get guarded(): boolean {
    return this.options.guarded ?? true;
  }

  private get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs ?? 60_000;
  }

  private async startEtcd(clientPort: number, peerPort: number): Promise<void> {
    this.etcd = ManagedProcess.start({
      command: this.binaries.etcd,
      args: [
        ...etcdArgs(join(this.dir, 'etcd'), clientPort, peerPort),
        ...(this.options.extraEtcdArgs ?? []),
      ],
      logFile: join(this.dir, 'etcd.log'),
      guarded: this.guarded,
    });
    await waitFor('etcd', this.etcd, this.readyTimeoutMs, () => etcdHealthy(this.etcdUrl));
  }

  private writeStaticFiles(): void {
    mkdirSync(join(this.dir, 'certs'), { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(this.dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(join(this.dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      join(this.dir, 'tokens.csv'),
      `${this.token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`,
      {
        mode: 0o600,
      },
    );
  }

  private async startApiServer(): Promise<void> {
    const d = this.dir;
    this.apiserver = ManagedProcess.start({
      command: this.binaries.kubeApiserver,
      args: [
        `--etcd-servers=${this.etcdUrl}`,
        `--secure-port=${this.apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // No kube-apiserver Endpoints for the `kubernetes` Service: nothing routes to loopback anyway.
        '--endpoint-reconciler-type=none',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(d, 'tokens.csv')}`,
        `--cert-dir=${join(d, 'certs')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(d, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(d, 'sa.key')}`,
        // Without a controller manager no namespace has a default ServiceAccount to admit pods with.
        '--disable-admission-plugins=ServiceAccount',
        ...(this.options.extraApiServerArgs ?? []),
      ],
      logFile: join(d, 'kube-apiserver.log'),
      guarded: this.guarded,
    });
    const ca = () => readFileSync(join(d, 'certs', 'apiserver.crt'), 'utf8');
    await waitFor('kube-apiserver', this.apiserver, this.readyTimeoutMs, async () => {
      if (!existsSync(join(d, 'certs', 'apiserver.crt'))) return false;
      return (await httpsGet(`${this.server}/readyz`, ca(), this.token).catch(() => 0)) === 200;
    });
  }
}

async function waitFor(
  name: string,
  proc: ManagedProcess,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) throw new Error(`${name} exited during start-up:\n${proc.logTail()}`);
    if (await ready()) return;
    if (Date.now() > deadline) {
      throw new Error(`${name} not ready after ${timeoutMs} ms:\n${proc.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function httpsGet(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Temp dirs of test runs that were killed before they could clean up (etcd preallocates 64 MiB). */
function removeStaleTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      // A start in another process may not have written its owner file yet.
      if (Date.now() - statSync(dir).mtimeMs < 60_000) continue;
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
    } catch {
      // No owner file: a start that died early. Remove it.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
