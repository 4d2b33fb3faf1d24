import {
  LeaderElectionConfigError,
  validateTimings,
  type LeaderElectionTimings,
} from '../leaderelection/index.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { FLAGS, type FlagSpec, type Settings } from './settings.ts';

/** Bad command-line input: main prints it as one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `warnings`: one line per deprecated name used, for the log. */
export type ParsedCommandLine =
  { action: 'run'; settings: Settings; warnings: string[] } | { action: 'help' } | { action: 'version' };

const byFlag = new Map(
  FLAGS.flatMap((f) => [[f.flag, f] as const, ...(f.deprecated ? [[f.deprecated.flag, f] as const] : [])]),
);

/**
 * Parses flags as Go's flag package accepts them (--name=value, --name value, -name; a bool alone means
 * true), falling back to each flag's environment twin, then its default. Throws UsageError naming the
 * flag (or variable) and what it accepts.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedCommandLine {
  /** Each flag given: its value and the name it was given as. */
  const given = new Map<FlagSpec, { value: string; source: string }>();
  const warnings: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help' || arg === '-help') return { action: 'help' };
    if (arg === '--version' || arg === '-version') return { action: 'version' };
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new UsageError(`unexpected argument "${arg}": this command takes flags only`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const flag = byFlag.get(name);
    if (!flag) throw new UsageError(`unknown flag --${name}`);
    // pflag's words for a deprecated flag.
    if (name !== flag.flag) warnings.push(`Flag --${name} has been deprecated, use --${flag.flag} instead`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (flag.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag --${name} needs a value: ${describe(flag)}`);
      value = next;
      i++;
    }
    // The flag's own name wins over its deprecated one, in whatever order they come.
    if (name === flag.flag || given.get(flag)?.source !== `--${flag.flag}`)
      given.set(flag, { value, source: `--${name}` });
  }

  const settings: Record<string, unknown> = {};
  for (const flag of FLAGS) {
    const fromFlag = given.get(flag);
    const envName = [flag.env, flag.deprecated?.env].find((name) => name !== undefined && env[name]);
    const fromEnv = envName === undefined ? undefined : env[envName];
    if (fromFlag !== undefined) settings[flag.key] = convert(flag, fromFlag.value, fromFlag.source);
    else if (fromEnv !== undefined) {
      if (envName !== flag.env)
        warnings.push(`$${envName} has been deprecated, use $${String(flag.env)} instead`);
      settings[flag.key] = convert(flag, fromEnv, `$${envName}`);
    } else settings[flag.key] = flag.default;
  }
  const result = settings as unknown as Settings;
  checkLeaderElectionTimings(result);
  if (result.metricsCertDir && !result.metricsSecure) {
    throw new UsageError('--metrics-cert-dir needs --metrics-secure: plain HTTP uses no certificate');
  }
  return { action: 'run', settings: result, warnings };
}

function describe(flag: FlagSpec): string {
  switch (flag.kind) {
    case 'int':
      return `an integer >= ${flag.min ?? 0}`;
    case 'number':
      return `a number >= ${flag.min ?? 0}`;
    case 'duration':
      return `a duration such as 500ms, 15s, 2m or 1h30m${flag.min === 0 ? ', or 0' : ''}`;
    case 'bool':
      return 'true or false';
    case 'address':
      return 'host:port, :port, or 0 to disable';
    case 'enum':
      return `one of ${(flag.values ?? []).join(', ')}`;
    case 'list':
      return `a comma-separated list of ${flag.item?.description ?? 'values'}`;
    case 'string':
      return 'a string';
  }
}

function convert(flag: FlagSpec, raw: string, source: string): unknown {
  const bad = (): never => {
    throw new UsageError(`invalid value "${raw}" for ${source}: want ${describe(flag)}`);
  };
  const min = flag.min ?? Number.NEGATIVE_INFINITY;
  switch (flag.kind) {
    case 'string':
      return raw;
    case 'int': {
      const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      return Number.isSafeInteger(n) && n >= min ? n : bad();
    }
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      return Number.isFinite(n) && n >= min ? n : bad();
    }
    case 'duration': {
      const ms = parseDuration(raw);
      return ms !== undefined && ms >= min ? ms : bad();
    }
    case 'bool':
      if (['true', '1', 't', 'TRUE', 'True'].includes(raw)) return true;
      if (['false', '0', 'f', 'FALSE', 'False'].includes(raw)) return false;
      return bad();
    case 'address':
      return raw === '0' || isBindAddress(raw) ? raw : bad();
    case 'enum':
      return flag.values?.includes(raw) ? raw : bad();
    case 'list': {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      if (flag.item && !items.every((item) => flag.item?.pattern.test(item))) bad();
      return [...new Set(items)];
    }
  }
}

/** host:port or :port, with an optional [IPv6] host and a port from 0 to 65535. */
export function isBindAddress(text: string): boolean {
  const match = /^(?:\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[1]) <= 65_535;
}

const TIMING_FLAGS: Record<keyof LeaderElectionTimings, string> = {
  leaseDurationMs: '--leader-election-lease-duration',
  renewDeadlineMs: '--leader-election-renew-deadline',
  retryPeriodMs: '--leader-election-retry-period',
};

/** The leader election rules of src/leaderelection/config.ts, said with the flags' names and values. */
function checkLeaderElectionTimings(s: Settings): void {
  try {
    validateTimings(s, { name: (key) => TIMING_FLAGS[key], duration: formatDuration });
  } catch (err) {
    if (err instanceof LeaderElectionConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** The --help text: every flag with its environment twin and default. */
export function usage(): string {
  const rows = FLAGS.map((f) => {
    const def = f.kind === 'duration' ? formatDuration(f.default as number) : String(f.default);
    const shown =
      def === ''
        ? ''
        : ` (default ${JSON.stringify(f.kind === 'duration' || f.kind === 'list' ? def : f.default)})`;
    const env = f.env ? ` [$${f.env}]` : '';
    const value = f.kind === 'bool' ? '' : ` ${f.kind === 'enum' ? 'value' : f.kind}`;
    return `  --${f.flag}${value}\n        ${f.help}${shown}${env}`;
  });
  return `Usage: pod-sync-operator [flags]\n\nA Kubernetes operator that syncs pods through shared informers and a rate-limited work queue.\n\nFlags:\n${rows.join('\n')}\n  --help\n        show this help\n  --version\n        print the version\n`;
}
