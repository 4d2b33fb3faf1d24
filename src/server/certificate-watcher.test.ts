import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/index.ts';
import { FakeClock, metricValue } from '../testing/index.ts';
import { CertificateWatcher } from './certificate-watcher.ts';
import { generateSelfSignedCertKey, type CertKeyPair } from './self-signed-certificate.ts';

const quiet = silentLogger();
let first: CertKeyPair;
let second: CertKeyPair;
beforeAll(async () => {
  [first, second] = await Promise.all([generateSelfSignedCertKey(), generateSelfSignedCertKey()]);
});

const dirs: string[] = [];
const watchers: CertificateWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function certDir(pair?: CertKeyPair): string {
  const dir = mkdtempSync(join(tmpdir(), 'certwatcher-'));
  dirs.push(dir);
  if (pair) write(dir, pair);
  return dir;
}

function write(dir: string, pair: CertKeyPair): void {
  writeFileSync(join(dir, 'tls.crt'), pair.cert);
  writeFileSync(join(dir, 'tls.key'), pair.key);
}

function watcher(dir: string, clock = new FakeClock(), registry = new Registry()) {
  const changes: CertKeyPair[] = [];
  const w = new CertificateWatcher({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    clock,
    logger: quiet,
    registry,
    onChange: (pair) => {
      changes.push(pair);
    },
  });
  watchers.push(w);
  return { w, changes, clock, registry };
}

describe("CertificateWatcher (controller-runtime's certwatcher)", () => {
  it('reads the pair at start and refuses a missing or mismatched one', () => {
    expect(watcher(certDir(first)).w.current).toEqual(first);
    expect(() => watcher(certDir())).toThrow(/ENOENT.*tls\.crt/);
    const mismatched = certDir({ cert: first.cert, key: second.key });
    expect(() => watcher(mismatched)).toThrow(/key values mismatch/);
  });

  it('polls the files every 10 s and hands over a new pair', () => {
    const dir = certDir(first);
    const { w, changes, clock } = watcher(dir);
    // Written before the watch starts, so only the poll can see it.
    write(dir, second);
    w.start(new AbortController().signal);
    clock.step(9_999);
    expect(w.current).toEqual(first);
    clock.step(1);
    expect(w.current).toEqual(second);
    expect(changes).toEqual([second]);
    clock.step(10_000);
    expect(changes).toHaveLength(1);
  });

  it('keeps the last good pair when the files do not make one, and counts the failure', async () => {
    const dir = certDir(first);
    const { w, changes, clock, registry } = watcher(dir);
    w.start(new AbortController().signal);
    writeFileSync(join(dir, 'tls.key'), 'not a key');
    clock.step(10_000);
    expect(w.current).toEqual(first);
    expect(changes).toEqual([]);
    expect(
      metricValue(await registry.metrics(), 'certwatcher_read_certificate_errors_total'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(await registry.metrics(), 'certwatcher_read_certificate_total'),
    ).toBeGreaterThanOrEqual(2);
  });

  it("sees the kubelet's symlink swap of a Secret volume at once, without waiting for the poll", async () => {
    // A Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/ (kubelet AtomicWriter).
    const dir = certDir();
    const version = (name: string, pair: CertKeyPair) => {
      mkdirSync(join(dir, name));
      write(join(dir, name), pair);
    };
    version('..2026_01_01_a', first);
    symlinkSync('..2026_01_01_a', join(dir, '..data'));
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    const { w, changes } = watcher(dir);
    w.start(new AbortController().signal);

    version('..2026_02_01_b', second);
    symlinkSync('..2026_02_01_b', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_01_01_a'), { recursive: true });

    const deadline = Date.now() + 5_000;
    while (changes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(w.current).toEqual(second);
    expect(changes).toEqual([second]);
  });

  it('stops watching and polling when its signal aborts', () => {
    const dir = certDir(first);
    const stop = new AbortController();
    const { w, clock } = watcher(dir);
    w.start(stop.signal);
    stop.abort();
    write(dir, second);
    clock.step(60_000);
    expect(w.current).toEqual(first);
  });
});
