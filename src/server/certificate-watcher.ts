import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../clock/index.ts';
import { perRegistry } from '../metrics/index.ts';
import { CERTIFICATE_POLL_INTERVAL_MS } from './defaults.ts';
import type { CertKeyPair } from './self-signed-certificate.ts';

const certwatcherMetrics = perRegistry((registers) => ({
  reads: new Counter({
    name: 'certwatcher_read_certificate_total',
    help: 'Total number of certificate reads',
    registers,
  }),
  errors: new Counter({
    name: 'certwatcher_read_certificate_errors_total',
    help: 'Total number of certificate read errors',
    registers,
  }),
}));

export interface CertificateWatcherOptions {
  certFile: string;
  keyFile: string;
  clock: Clock;
  logger: Logger;
  /** Called with each new pair after the first, e.g. to hand it to the TLS server. */
  onChange: (pair: CertKeyPair) => void;
  registry?: Registry;
  pollIntervalMs?: number;
}

/**
 * Serves the certificate and key files as they change on disk, without a restart (cert-manager renews
 * them; the kubelet swaps a Secret volume's files by renaming a symlink): controller-runtime's
 * pkg/certwatcher. The files are read at construction (a missing, unreadable or mismatched pair
 * throws), then again on every file event (fs.watch, re-armed after a remove or rename) and every
 * 10 s in any case. A pair that fails to read or parse is logged and counted, and the last good pair
 * stays in use. Counts reads and failures as certwatcher_read_certificate_total and
 * certwatcher_read_certificate_errors_total, controller-runtime's names.
 */
export class CertificateWatcher {
  readonly #options: CertificateWatcherOptions;
  readonly #metrics: ReturnType<typeof certwatcherMetrics>;
  readonly #watchers = new Map<string, FSWatcher>();
  #current: CertKeyPair;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(options: CertificateWatcherOptions) {
    this.#options = options;
    this.#metrics = certwatcherMetrics(options.registry);
    this.#current = this.#read();
  }

  /** The pair in use. */
  get current(): CertKeyPair {
    return this.#current;
  }

  /** Watches and polls until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    signal.addEventListener('abort', () => {
      this.stop();
    });
    for (const file of [this.#options.certFile, this.#options.keyFile]) this.#watch(file);
    this.#schedulePoll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#options.clock.clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Reads the files again; a new, valid pair replaces the current one. False when reading failed. */
  readCertificate(): boolean {
    let pair: CertKeyPair;
    try {
      pair = this.#read();
    } catch (err) {
      this.#options.logger.error({ err, cert: this.#options.certFile }, 'failed to read certificate');
      return false;
    }
    if (pair.cert === this.#current.cert && pair.key === this.#current.key) return true;
    this.#current = pair;
    this.#options.logger.info({ cert: this.#options.certFile }, 'updated current TLS certificate');
    this.#options.onChange(pair);
    return true;
  }

  #read(): CertKeyPair {
    this.#metrics.reads.inc();
    try {
      const pair = {
        cert: readFileSync(this.#options.certFile, 'utf8'),
        key: readFileSync(this.#options.keyFile, 'utf8'),
      };
      // Parses both and checks that the key is the certificate's, as Go's tls.X509KeyPair does.
      createSecureContext(pair);
      return pair;
    } catch (err) {
      this.#metrics.errors.inc();
      throw err;
    }
  }

  #watch(file: string): void {
    if (this.#stopped || this.#watchers.has(file)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(file, { persistent: false }, (event) => {
        // A rename or removal (the kubelet's symlink swap) leaves this watch on a file that is gone.
        if (event === 'rename') this.#unwatch(file);
        this.readCertificate();
        if (event === 'rename') this.#watch(file);
      });
    } catch {
      // The file is missing for now (mid-swap): the next poll reads it and tries again.
      return;
    }
    watcher.on('error', () => {
      this.#unwatch(file);
    });
    this.#watchers.set(file, watcher);
  }

  #unwatch(file: string): void {
    this.#watchers.get(file)?.close();
    this.#watchers.delete(file);
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimeout(
      () => {
        this.readCertificate();
        for (const file of [this.#options.certFile, this.#options.keyFile]) this.#watch(file);
        this.#schedulePoll();
      },
      this.#options.pollIntervalMs ?? CERTIFICATE_POLL_INTERVAL_MS,
      { unref: true },
    );
  }
}
