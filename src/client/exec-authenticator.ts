import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import { realClock, type Clock } from '../clock/index.ts';
import type { ClientIdentity } from './credentials.ts';
import { EXEC_INSTALL_HINTS_PER_HOUR } from './defaults.ts';
import type { ExecProviderConfig, RestConfig } from './rest-config.ts';

/** One credential a plugin printed; the same object until the plugin runs again. */
export interface ExecCredential {
  readonly token: string;
  readonly identity: ClientIdentity | undefined;
}

/** spec.cluster of the ExecCredential a plugin receives, in the wire's field names. */
export interface ExecCluster {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  /** Base64, as the Go encoder writes []byte. */
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  'disable-compression'?: boolean;
  config: unknown;
}

export interface ExecAuthenticatorOptions {
  clock?: Clock;
  /** Plugin stderr goes here, one warn line per line, with any credential redacted. */
  logger?: Logger;
  /** Whether our stdin is a terminal (it is passed to an interactive plugin only then). */
  isTerminal?: () => boolean;
  /** The environment the plugin inherits; process.env by default. */
  environ?: NodeJS.ProcessEnv;
}

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g;
const VERBOSE_HELP =
  '. It looks like you are trying to use a client-go credential plugin that is not installed. To learn more about this feature, consult the documentation available at: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins';

/**
 * Runs an exec credential plugin as client-go does: apiVersion client.authentication.k8s.io/v1 or
 * v1beta1, KUBERNETES_EXEC_INFO with spec.interactive (and spec.cluster when provideClusterInfo),
 * the configured env on top of ours, stdin only when interactive. The credential is cached until
 * status.expirationTimestamp passes (no leeway); after a 401 the plugin runs again, once, and only if
 * the credential that got the 401 is still the current one, so requests in flight share one run.
 * Concurrent callers share one run. A failed run keeps the last credential.
 * Source: client-go plugin/pkg/client/auth/exec/exec.go (refreshCredsLocked, maybeRefreshCreds,
 * isInteractive, wrapCmdRunErrorLocked); rest/exec.go ConfigToExecCluster.
 */
export class ExecAuthenticator {
  readonly #exec: ExecProviderConfig;
  readonly #cluster: ExecCluster | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #isTerminal: () => boolean;
  readonly #environ: NodeJS.ProcessEnv;
  #cached: ExecCredential | undefined;
  #expiresAt: number | undefined;
  #running: Promise<ExecCredential> | undefined;
  #hintWindowStart = -Infinity;
  #hintsInWindow = 0;

  constructor(
    exec: ExecProviderConfig,
    cluster: ExecCluster | undefined,
    options: ExecAuthenticatorOptions = {},
  ) {
    this.#exec = exec;
    this.#cluster = cluster;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger);
    this.#isTerminal = options.isTerminal ?? (() => isatty(0));
    this.#environ = options.environ ?? process.env;
  }

  /** The current credential: cached, or from a run of the plugin. @throws Error when the run fails. */
  async credential(): Promise<ExecCredential> {
    if (this.#running) {
      try {
        return await this.#running;
      } catch (err) {
        if (this.#cached && !this.#expired()) return this.#cached;
        throw err;
      }
    }
    if (this.#cached && !this.#expired()) return this.#cached;
    return this.#refresh();
  }

  /** A request sent with `used` got a 401: run the plugin again unless that already happened. */
  async refreshAfterUnauthorized(used: ExecCredential): Promise<void> {
    if (used !== this.#cached) return;
    try {
      await this.#refresh();
    } catch (err) {
      this.#log.error({ err }, 'refreshing credentials after a 401');
    }
  }

  #expired(): boolean {
    return this.#expiresAt !== undefined && this.#clock.now() > this.#expiresAt;
  }

  #refresh(): Promise<ExecCredential> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<ExecCredential> {
    const exec = this.#exec;
    let interactive: boolean;
    if (exec.interactiveMode === 'Never') interactive = false;
    else if (exec.interactiveMode === 'IfAvailable') interactive = this.#isTerminal();
    else if (!this.#isTerminal()) {
      throw new Error('exec plugin cannot support interactive mode: standard input is not a terminal');
    } else interactive = true;

    const input = {
      kind: 'ExecCredential',
      apiVersion: exec.apiVersion,
      spec: {
        ...(exec.provideClusterInfo && this.#cluster ? { cluster: this.#cluster } : {}),
        interactive,
      },
    };
    const env: NodeJS.ProcessEnv = { ...this.#environ };
    for (const { name, value } of exec.env) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(input);

    const { code, spawnError, stdout, stderr } = await runPlugin(exec.command, exec.args, env, interactive);
    try {
      if (spawnError) {
        if (spawnError.code === 'ENOENT') throw new Error(this.#notFound());
        throw new Error(`exec: ${spawnError.message}`);
      }
      if (code !== 0) throw new Error(`exec: executable ${exec.command} failed with exit code ${code}`);
      const credential = this.#decode(stdout);
      this.#cached = credential.credential;
      this.#expiresAt = credential.expiresAt;
      return credential.credential;
    } finally {
      this.#logStderr(stderr);
    }
  }

  #decode(stdout: string): { credential: ExecCredential; expiresAt: number | undefined } {
    const exec = this.#exec;
    let out: {
      apiVersion?: unknown;
      kind?: unknown;
      status?: {
        token?: unknown;
        clientCertificateData?: unknown;
        clientKeyData?: unknown;
        expirationTimestamp?: unknown;
      } | null;
    };
    try {
      out = JSON.parse(stdout) as typeof out;
    } catch (err) {
      throw new Error(`exec: decoding stdout: ${(err as Error).message}`, { cause: err });
    }
    if (typeof out !== 'object' || (out as unknown) === null || out.kind !== 'ExecCredential') {
      throw new Error('exec: decoding stdout: not an ExecCredential');
    }
    if (out.apiVersion !== exec.apiVersion) {
      throw new Error(
        `exec plugin is configured to use API version ${exec.apiVersion}, plugin returned version ${String(out.apiVersion)}`,
      );
    }
    const status = out.status;
    if (!status) throw new Error("exec plugin didn't return a status field");
    const token = typeof status.token === 'string' ? status.token : '';
    const cert = typeof status.clientCertificateData === 'string' ? status.clientCertificateData : '';
    const key = typeof status.clientKeyData === 'string' ? status.clientKeyData : '';
    if (!token && !cert && !key) throw new Error("exec plugin didn't return a token or cert/key pair");
    if (!cert !== !key) throw new Error('exec plugin returned only certificate or key, not both');
    let identity: ClientIdentity | undefined;
    if (cert) {
      try {
        new X509Certificate(cert);
        createPrivateKey(key);
      } catch (err) {
        throw new Error(`exec: failed parsing client key/certificate: ${(err as Error).message}`, {
          cause: err,
        });
      }
      identity = { cert, key };
    }
    let expiresAt: number | undefined;
    if (status.expirationTimestamp !== undefined && status.expirationTimestamp !== null) {
      expiresAt =
        typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : NaN;
      if (Number.isNaN(expiresAt))
        throw new Error('exec: decoding stdout: expirationTimestamp is not a time');
    }
    return { credential: { token, identity }, expiresAt };
  }

  /** client-go's message, with the verbose help and the install hint at most 10 times an hour. */
  #notFound(): string {
    let message = `exec: executable ${this.#exec.command} not found`;
    const now = this.#clock.now();
    if (now - this.#hintWindowStart >= 3_600_000) {
      this.#hintWindowStart = now;
      this.#hintsInWindow = 0;
    }
    if (this.#hintsInWindow < EXEC_INSTALL_HINTS_PER_HOUR) {
      this.#hintsInWindow++;
      message += VERBOSE_HELP;
      if (this.#exec.installHint) message += `. ${this.#exec.installHint.replace(/\s*\n\s*/g, ' ').trim()}`;
    }
    return message;
  }

  #logStderr(stderr: string): void {
    const secrets = [this.#cached?.token, this.#cached?.identity?.key.toString()].filter(
      (s): s is string => typeof s === 'string' && s.length > 0,
    );
    for (const raw of stderr.split('\n')) {
      let line = raw.trimEnd();
      if (!line) continue;
      for (const secret of secrets) line = line.split(secret).join('[REDACTED]');
      line = line.replace(JWT, '[REDACTED]');
      this.#log.warn({ plugin: this.#exec.command, stderr: line }, 'exec plugin stderr');
    }
  }
}

/**
 * spec.cluster as ConfigToExecCluster fills it from the REST config: the CA as data, read from its
 * file when the kubeconfig names one. Fields at their zero value are left out, as the Go encoder does.
 */
export function execClusterOf(config: RestConfig): ExecCluster {
  const ca = config.tls.caData ?? (config.tls.caFile ? readFileSync(config.tls.caFile) : undefined);
  return {
    server: config.host,
    ...(config.tls.serverName ? { 'tls-server-name': config.tls.serverName } : {}),
    ...(config.tls.insecure ? { 'insecure-skip-tls-verify': true } : {}),
    ...(ca && ca.length > 0 ? { 'certificate-authority-data': ca.toString('base64') } : {}),
    ...(config.disableCompression ? { 'disable-compression': true } : {}),
    config: config.execProvider?.config ?? null,
  };
}

interface PluginRun {
  code: number | null;
  spawnError: NodeJS.ErrnoException | undefined;
  stdout: string;
  stderr: string;
}

function runPlugin(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  interactive: boolean,
): Promise<PluginRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code) => {
      resolve({ code, spawnError, stdout, stderr });
    });
  });
}
