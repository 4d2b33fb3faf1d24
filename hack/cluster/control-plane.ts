import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
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
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { apiRequest, componentHealthy, type ApiTarget } from './api.ts';
import { ensureBinaries, type Binaries } from './binaries.ts';
import { compactEtcd, etcdArgs, etcdHealthy } from './etcd.ts';
import { controllerManagerArgs } from './kube-controller-manager.ts';
import { schedulerArgs } from './kube-scheduler.ts';
import { DEFAULT_NODES, fakeNode, kwokArgs, nodeSchedulable, type FakeNodeSpec } from './kwok.ts';
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
  /** How long start and restart wait for each component to be ready. */
  readyTimeoutMs?: number;
  /**
   * The living cluster: kube-controller-manager, kube-scheduler and kwok with fake nodes, besides
   * etcd and kube-apiserver. Default false: a bare API server, where nothing makes, schedules, runs
   * or collects objects but the test itself.
   */
  living?: boolean;
  /** The fake nodes of a living cluster (default DEFAULT_NODES: three, one per zone). */
  nodes?: readonly FakeNodeSpec[];
}

export type Component = 'etcd' | 'apiserver' | 'controllerManager' | 'scheduler' | 'kwok';

/** In start order; stop goes the other way. */
export const COMPONENTS: readonly Component[] = [
  'etcd',
  'apiserver',
  'controllerManager',
  'scheduler',
  'kwok',
];

/** What `make cluster` records so that another process can find and stop the control plane. */
export interface ControlPlaneState {
  server: string;
  kubeconfig: string;
  living: boolean;
  /** Each running component's process (its guard's when guarded); 0 when it does not run. */
  pids: Record<Component, number>;
  /** The binary each component runs, to tell our pid from a reused one. */
  commands: Record<Component, string>;
  binDir: string;
}

const TEMP_PREFIX = 'pod-sync-cp-';
const ADMIN_USER = 'pod-sync-admin';

/**
 * One etcd and one kube-apiserver on loopback, with RBAC on, a static admin token in system:masters,
 * and a service-account issuer so TokenRequest works. Bare by default: there is no
 * kube-controller-manager (no default ServiceAccounts, so the ServiceAccount admission plugin is off;
 * no garbage collection, no namespace finalization, no Pods from Deployments), no scheduler and no
 * kubelet. With `living: true` it adds kube-controller-manager, kube-scheduler and kwok with fake
 * nodes, and turns ServiceAccount admission back on: pods are made, bound, run and collected.
 */
export class ControlPlane {
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly etcdUrl: string;
  readonly binaries: Binaries;
  readonly living: boolean;
  readonly nodes: readonly FakeNodeSpec[];
  private readonly ownsDir: boolean;
  private readonly options: ControlPlaneOptions;
  private readonly ports: Ports;
  private readonly procs: Partial<Record<Component, ManagedProcess>> = {};
  private caPem = '';

  private constructor(init: {
    dir: string;
    ownsDir: boolean;
    options: ControlPlaneOptions;
    binaries: Binaries;
    ports: Ports;
  }) {
    this.dir = init.dir;
    this.ownsDir = init.ownsDir;
    this.options = init.options;
    this.binaries = init.binaries;
    this.ports = init.ports;
    this.living = init.options.living ?? false;
    this.nodes = this.living ? (init.options.nodes ?? DEFAULT_NODES) : [];
    this.server = `https://127.0.0.1:${init.ports.api}`;
    this.etcdUrl = `http://127.0.0.1:${init.ports.etcd}`;
    this.kubeconfigPath = join(init.dir, 'kubeconfig');
    this.token = randomBytes(24).toString('hex');
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    removeStaleTempDirs();
    const binaries = options.binaries ?? (await ensureBinaries());
    if (options.living && !existsSync(binaries.kwok)) {
      throw new Error(`the living cluster needs kwok, not found at ${binaries.kwok}`);
    }
    // A free port can be taken between our probe and the binary's bind: try again with new ones.
    for (let attempt = 1; ; attempt++) {
      const ownsDir = options.dir === undefined;
      const dir = options.dir ?? mkdtempSync(join(tmpdir(), TEMP_PREFIX));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'owner.pid'), String(process.pid));
      const ports: Ports = {
        api: await freePort(),
        etcd: await freePort(),
        etcdPeer: await freePort(),
        controllerManager: await freePort(),
        scheduler: await freePort(),
      };
      const cp = new ControlPlane({ dir, ownsDir, options, binaries, ports });
      try {
        await cp.startEtcd();
        cp.writeStaticFiles();
        await cp.startApiServer();
        cp.caPem = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
        const kubeconfig = renderKubeconfig({
          name: 'pod-sync-local',
          server: cp.server,
          caPem: cp.caPem,
          token: cp.token,
        });
        writeFileSync(cp.kubeconfigPath, kubeconfig, { mode: 0o600 });
        writeFileSync(join(dir, 'certs', 'ca.crt'), caCertificates(cp.caPem));
        if (cp.living) await cp.startLiving(kubeconfig);
        return cp;
      } catch (err) {
        await cp.stop();
        if (attempt >= 3) throw err;
      }
    }
  }

  get state(): ControlPlaneState {
    const pids = {} as Record<Component, number>;
    const commands = {} as Record<Component, string>;
    for (const name of COMPONENTS) {
      pids[name] = this.procs[name]?.pid ?? 0;
      commands[name] = this.procs[name]?.spec.command ?? '';
    }
    return {
      server: this.server,
      kubeconfig: this.kubeconfigPath,
      living: this.living,
      pids,
      commands,
      binDir: this.binaries.dir,
    };
  }

  /** The CA that signed the serving certificate (self-signed by kube-apiserver in its cert dir). */
  get ca(): string {
    return this.caPem;
  }

  /**
   * Stops kube-apiserver and starts it again on the same port with the same etcd data and serving
   * certificate. The controller manager, the scheduler and kwok keep running and reconnect.
   */
  async restartApiServer(): Promise<void> {
    await this.procs.apiserver?.stop();
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

  /**
   * Stops the components in reverse start order (kwok, the scheduler and the controller manager
   * together, then kube-apiserver, then etcd) and removes the temp dir it created. Safe to call twice.
   */
  async stop(): Promise<void> {
    await Promise.all(
      (['kwok', 'scheduler', 'controllerManager'] as const).map(
        (name) => this.procs[name]?.stop() ?? Promise.resolve(),
      ),
    );
    await this.procs.apiserver?.stop();
    await this.procs.etcd?.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** For process exit handlers, which cannot wait. */
  killNow(): void {
    for (const name of [...COMPONENTS].reverse()) this.procs[name]?.killNow();
  }

  private get guarded(): boolean {
    return this.options.guarded ?? true;
  }

  private get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs ?? 60_000;
  }

  private get api(): ApiTarget {
    return { server: this.server, ca: this.caPem, token: this.token };
  }

  private run(name: Component, command: string, args: string[], env?: NodeJS.ProcessEnv): ManagedProcess {
    const proc = ManagedProcess.start({
      command,
      args,
      logFile: join(this.dir, `${basename(command)}.log`),
      guarded: this.guarded,
      env,
    });
    this.procs[name] = proc;
    return proc;
  }

  private async startEtcd(): Promise<void> {
    const etcd = this.run('etcd', this.binaries.etcd, [
      ...etcdArgs(join(this.dir, 'etcd'), this.ports.etcd, this.ports.etcdPeer),
      ...(this.options.extraEtcdArgs ?? []),
    ]);
    await waitFor('etcd', etcd, this.readyTimeoutMs, () => etcdHealthy(this.etcdUrl));
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
    const apiserver = this.run('apiserver', this.binaries.kubeApiserver, [
      `--etcd-servers=${this.etcdUrl}`,
      `--secure-port=${this.ports.api}`,
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
      ...(this.living
        ? [
            // DefaultTolerationSeconds gives every pod 30 s on a not-ready or unreachable node rather
            // than 300 s, so that a stopped node's pods move within a minute.
            '--default-not-ready-toleration-seconds=30',
            '--default-unreachable-toleration-seconds=30',
          ]
        : // Without a controller manager no namespace has a default ServiceAccount to admit pods with.
          ['--disable-admission-plugins=ServiceAccount']),
      ...(this.options.extraApiServerArgs ?? []),
    ]);
    const ca = () => readFileSync(join(d, 'certs', 'apiserver.crt'), 'utf8');
    await waitFor('kube-apiserver', apiserver, this.readyTimeoutMs, async () => {
      if (!existsSync(join(d, 'certs', 'apiserver.crt'))) return false;
      const target = { server: this.server, ca: ca(), token: this.token };
      return (await apiRequest(target, 'GET', '/readyz').catch(() => undefined))?.status === 200;
    });
  }

  /**
   * kube-controller-manager, kube-scheduler and kwok, started in that order, then the fake nodes.
   * Ready when both components answer /healthz, the `default` namespace has its ServiceAccount (pods
   * can be admitted) and every node is Ready without the not-ready taint (pods can be bound).
   */
  private async startLiving(kubeconfig: string): Promise<void> {
    for (const name of ['kube-controller-manager', 'kube-scheduler', 'kwok']) {
      writeFileSync(join(this.dir, `${name}.kubeconfig`), kubeconfig, { mode: 0o600 });
    }
    const controllerManager = this.run(
      'controllerManager',
      this.binaries.kubeControllerManager,
      controllerManagerArgs(this.dir, this.ports.controllerManager),
    );
    const scheduler = this.run(
      'scheduler',
      this.binaries.kubeScheduler,
      schedulerArgs(this.dir, this.ports.scheduler),
    );
    mkdirSync(join(this.dir, 'kwok'), { recursive: true });
    const kwok = this.run('kwok', this.binaries.kwok, kwokArgs(this.dir), {
      KWOK_WORKDIR: join(this.dir, 'kwok'),
    });
    for (const node of this.nodes) {
      const res = await apiRequest(this.api, 'POST', '/api/v1/nodes', fakeNode(node));
      if (res.status !== 201) throw new Error(`creating node ${node.name}: HTTP ${res.status}: ${res.body}`);
    }
    const timeout = this.readyTimeoutMs;
    await Promise.all([
      waitFor('kube-controller-manager', controllerManager, timeout, async () => {
        if (!(await componentHealthy(this.ports.controllerManager))) return false;
        const sa = '/api/v1/namespaces/default/serviceaccounts/default';
        return (await apiRequest(this.api, 'GET', sa).catch(() => undefined))?.status === 200;
      }),
      waitFor('kube-scheduler', scheduler, timeout, () => componentHealthy(this.ports.scheduler)),
      waitFor('kwok', kwok, timeout, async () => {
        const res = await apiRequest(this.api, 'GET', '/api/v1/nodes').catch(() => undefined);
        if (res?.status !== 200) return false;
        const items = (JSON.parse(res.body) as { items: (NodeView & { metadata: { name: string } })[] })
          .items;
        return this.nodes.every((n) => {
          const node = items.find((i) => i.metadata.name === n.name);
          return node !== undefined && nodeSchedulable(node);
        });
      }),
    ]);
  }
}

interface Ports {
  api: number;
  etcd: number;
  etcdPeer: number;
  controllerManager: number;
  scheduler: number;
}

type NodeView = Parameters<typeof nodeSchedulable>[0];

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

/**
 * The CA certificates of a PEM bundle. kube-apiserver's self-signed apiserver.crt holds the serving
 * certificate, then the CA that signed it: clients may trust the whole bundle, but the controller
 * manager publishes --root-ca-file as a ClusterTrustBundle, whose entries must all be CAs.
 */
function caCertificates(bundle: string): string {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.filter((pem) => new X509Certificate(pem).ca);
  if (cas.length === 0) throw new Error('kube-apiserver wrote no CA certificate into apiserver.crt');
  return `${cas.join('\n')}\n`;
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
