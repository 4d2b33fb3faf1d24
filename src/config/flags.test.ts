import { describe, expect, it } from 'vitest';
import { KUBE_API_BURST, KUBE_API_QPS } from '../client/index.ts';
import { GRACEFUL_SHUTDOWN_TIMEOUT_MS, MAX_REQUEUES, WORKERS } from '../controllers/index.ts';
import { RESYNC_PERIOD_MS } from '../informers/index.ts';
import { LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from '../leaderelection/index.ts';
import { CACHE_SYNC_TIMEOUT_MS } from '../manager/index.ts';
import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from '../queue/index.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { isBindAddress, parseCommandLine, usage, UsageError } from './flags.ts';
import { FLAGS, type Settings } from './settings.ts';

function settings(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const parsed = parseCommandLine(argv, env);
  if (parsed.action !== 'run') throw new Error(`expected run, got ${parsed.action}`);
  return parsed.settings;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseCommandLine(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['300ms', 300],
    ['1000s', 1_000_000],
    ['10us', 0.01],
    ['1µs', 0.001],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '15', 's', '1d', '-1s', '1s2', 'abc', '1 s', '1.2.3s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats as Go prints durations', () => {
    expect([0, 500, 2_000, 15_000, 120_000, 36_000_000, 1_000_000].map(formatDuration)).toEqual([
      '0s',
      '500ms',
      '2s',
      '15s',
      '2m0s',
      '10h0m0s',
      '16m40s',
    ]);
  });
});

describe('parseCommandLine', () => {
  // The values themselves are pinned once, in defaults.test.ts.
  it("gives each component's default, from its defaults.ts", () => {
    expect(settings([])).toMatchObject({
      workers: WORKERS,
      maxRequeues: MAX_REQUEUES,
      retryBaseDelayMs: RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: RETRY_MAX_DELAY_MS,
      resyncPeriodMs: RESYNC_PERIOD_MS,
      cacheSyncTimeoutMs: CACHE_SYNC_TIMEOUT_MS,
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_PERIOD_MS,
      gracefulShutdownTimeoutMs: GRACEFUL_SHUTDOWN_TIMEOUT_MS,
      kubeApiQps: KUBE_API_QPS,
      kubeApiBurst: KUBE_API_BURST,
    });
  });

  it('accepts --name=value, --name value, -name value and a bare bool', () => {
    const s = settings(['--namespace=apps', '--workers', '4', '-retry-base-delay', '5ms', '--leader-elect']);
    expect(s).toMatchObject({ namespace: 'apps', workers: 4, retryBaseDelayMs: 5, leaderElect: true });
    expect(settings(['--leader-elect=false']).leaderElect).toBe(false);
  });

  it('reads environment twins, and a flag wins over its twin', () => {
    const env = { POD_SYNC_WORKERS: '7', POD_SYNC_LOG_FORMAT: 'pretty' };
    expect(settings([], env)).toMatchObject({ workers: 7, logFormat: 'pretty' });
    expect(settings(['--workers=3'], env).workers).toBe(3);
  });

  it('names the requeue limit --max-requeues, as client-go counts requeues', () => {
    const parsed = parseCommandLine(['--max-requeues=3'], {});
    expect(parsed).toMatchObject({ action: 'run', settings: { maxRequeues: 3 }, warnings: [] });
    expect(settings([], { POD_SYNC_MAX_REQUEUES: '4' }).maxRequeues).toBe(4);
    expect(usage()).toContain('--max-requeues');
  });

  it('still accepts --max-retries and $POD_SYNC_MAX_RETRIES, each with one deprecation line', () => {
    expect(parseCommandLine(['--max-retries', '3'], {})).toMatchObject({
      settings: { maxRequeues: 3 },
      warnings: ['Flag --max-retries has been deprecated, use --max-requeues instead'],
    });
    expect(parseCommandLine([], { POD_SYNC_MAX_RETRIES: '4' })).toMatchObject({
      settings: { maxRequeues: 4 },
      warnings: ['$POD_SYNC_MAX_RETRIES has been deprecated, use $POD_SYNC_MAX_REQUEUES instead'],
    });
    // The new name wins, and then the old variable is not read at all.
    expect(parseCommandLine([], { POD_SYNC_MAX_REQUEUES: '2', POD_SYNC_MAX_RETRIES: '4' })).toMatchObject({
      settings: { maxRequeues: 2 },
      warnings: [],
    });
    // The new flag wins over the old one in either order.
    for (const argv of [
      ['--max-requeues=3', '--max-retries=7'],
      ['--max-retries=7', '--max-requeues=3'],
    ])
      expect(parseCommandLine(argv, {})).toMatchObject({ settings: { maxRequeues: 3 } });
    expect(usageError(['--max-retries=-1'])).toContain('--max-retries');
    // Out of --help, as pflag hides a deprecated flag.
    expect(usage()).not.toContain('max-retries');
  });

  it('answers --help and --version', () => {
    expect(parseCommandLine(['--workers', '2', '--help'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['-h'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['--version'])).toEqual({ action: 'version' });
  });

  it('rejects an unknown flag, naming it', () => {
    expect(usageError(['--bogus'])).toBe('unknown flag --bogus');
    expect(usageError(['--bogus=1'])).toBe('unknown flag --bogus');
  });

  it('rejects bad values naming the flag and what it accepts', () => {
    expect(usageError(['--workers', '0'])).toBe('invalid value "0" for --workers: want an integer >= 1');
    expect(usageError(['--workers=two'])).toContain('--workers');
    expect(usageError(['--retry-base-delay=15'])).toContain('a duration such as 500ms');
    expect(usageError(['--leader-elect=maybe'])).toContain('true or false');
    expect(usageError(['--log-format=xml'])).toContain('one of auto, json, pretty');
    expect(usageError(['--metrics-bind-address=8080'])).toContain('host:port, :port, or 0 to disable');
    expect(usageError(['--kube-api-qps=-1'])).toContain('--kube-api-qps');
    expect(usageError([], { POD_SYNC_WORKERS: 'lots' })).toBe(
      'invalid value "lots" for $POD_SYNC_WORKERS: want an integer >= 1',
    );
    expect(usageError(['--namespace'])).toContain('flag --namespace needs a value');
    expect(usageError(['extra'])).toContain('unexpected argument "extra"');
  });

  it('takes --owner-resources as a comma-separated list of group-qualified resources', () => {
    expect(settings([]).ownerResources).toEqual([
      'replicasets.apps',
      'deployments.apps',
      'statefulsets.apps',
      'daemonsets.apps',
      'jobs.batch',
      'cronjobs.batch',
      'replicationcontrollers',
    ]);
    expect(
      settings(['--owner-resources=replicasets.apps, widgets.example.com,replicasets.apps']).ownerResources,
    ).toEqual(['replicasets.apps', 'widgets.example.com']);
    expect(settings(['--owner-resources=']).ownerResources).toEqual([]);
    expect(settings([], { POD_SYNC_OWNER_RESOURCES: 'jobs.batch' }).ownerResources).toEqual(['jobs.batch']);
    expect(usageError(['--owner-resources=ReplicaSet.apps'])).toBe(
      'invalid value "ReplicaSet.apps" for --owner-resources: want a comma-separated list of group-qualified resources such as replicasets.apps',
    );
    expect(usageError(['--owner-resources=*'])).toContain('--owner-resources');
    expect(usage()).toContain('(default "replicasets.apps,deployments.apps,');
  });

  it("enforces client-go's leader election rule: lease duration > renew deadline > 1.2 x retry period", () => {
    expect(usageError(['--leader-election-lease-duration=10s'])).toContain(
      '--leader-election-lease-duration (10s) must be greater than --leader-election-renew-deadline (10s)',
    );
    expect(usageError(['--leader-election-retry-period=9s'])).toContain(
      '1.2 x --leader-election-retry-period (9s)',
    );
    // The Lease records whole seconds: under 1 s is refused here, before anything connects.
    expect(
      usageError([
        '--leader-election-lease-duration=900ms',
        '--leader-election-renew-deadline=800ms',
        '--leader-election-retry-period=500ms',
      ]),
    ).toBe('--leader-election-lease-duration (900ms) must be at least 1s: the Lease records whole seconds');
    expect(
      settings([
        '--leader-election-lease-duration=3s',
        '--leader-election-renew-deadline=2s',
        '--leader-election-retry-period=500ms',
      ]).leaseDurationMs,
    ).toBe(3_000);
  });

  it('accepts bind addresses as controller-runtime does', () => {
    expect([':8080', '0.0.0.0:8080', '127.0.0.1:0', '[::]:8443', 'localhost:9090'].every(isBindAddress)).toBe(
      true,
    );
    expect(['8080', ':99999', 'host', '[::]'].some(isBindAddress)).toBe(false);
    expect(settings(['--metrics-bind-address=0']).metricsBindAddress).toBe('0');
  });

  it('serves metrics securely on request, from a certificate directory only then', () => {
    expect(settings(['--metrics-secure'])).toMatchObject({ metricsSecure: true, metricsCertDir: '' });
    expect(settings(['--metrics-secure', '--metrics-cert-dir=/certs']).metricsCertDir).toBe('/certs');
    expect(settings([], { POD_SYNC_METRICS_SECURE: 'true' }).metricsSecure).toBe(true);
    expect(usageError(['--metrics-cert-dir=/certs'])).toBe(
      '--metrics-cert-dir needs --metrics-secure: plain HTTP uses no certificate',
    );
  });

  it('documents every flag with its default and environment twin in --help', () => {
    const text = usage();
    for (const flag of FLAGS) {
      expect(text).toContain(`--${flag.flag}`);
      if (flag.env) expect(text).toContain(`$${flag.env}`);
    }
    expect(text).toContain('(default "15s")');
    expect(text).toContain('(default ":8080")');
  });
});
