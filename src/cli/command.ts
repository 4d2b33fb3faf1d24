import type { Logger } from 'pino';
import { KubeconfigError } from '../clientcmd/index.ts';
import { parseCommandLine, usage, UsageError, type Settings } from '../config/index.ts';
import { createLogger } from '../logging/index.ts';
import { VERSION } from '../version.ts';
import { EXIT_GRACE_MS } from './defaults.ts';
import { handleShutdownSignals } from './signals.ts';

/**
 * What the command runs once its flags are parsed: until `shutdown` aborts (SIGTERM, SIGINT), then
 * resolves with undefined after a clean stop, or with the failure it stopped on, already logged.
 * Throws when it cannot start.
 */
export type Operator = (settings: Settings, log: Logger, shutdown: AbortSignal) => Promise<Error | undefined>;

/** Exit codes: 0 clean shutdown, --help, --version; 1 runtime failure; 2 bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** The operator's logger for its settings; createLogger (src/logging) by default. */
  logger?: (settings: Settings) => Logger;
}

/**
 * Parses `argv` and `env`, answers --help and --version, else runs `operator` with the settings, a
 * logger and the shutdown signal. Resolves with the exit code: 2 for bad flags (one line on stderr,
 * nothing connected), a kubeconfig that cannot be used, or a bad value found at start (a metrics
 * certificate directory); 1 for a runtime failure (cache sync timeout, leadership lost, a start that
 * failed otherwise); 0 after a clean stop.
 */
export async function exitCodeOf(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  operator: Operator,
  io: CommandIo = process,
): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`pod-sync-operator: ${err.message} (see --help)\n`);
    return EXIT_USAGE;
  }
  if (parsed.action === 'help') {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  if (parsed.action === 'version') {
    io.stdout.write(`pod-sync-operator ${VERSION}\n`);
    return EXIT_OK;
  }
  const { settings } = parsed;
  const log = io.logger?.(settings) ?? createLogger({ level: settings.logLevel, format: settings.logFormat });
  for (const warning of parsed.warnings) log.warn(warning);
  const shutdown = new AbortController();
  handleShutdownSignals(shutdown, log);
  try {
    // A failure the operator stopped on is logged where it was seen.
    return (await operator(settings, log, shutdown.signal)) ? EXIT_FAILURE : EXIT_OK;
  } catch (err) {
    log.error({ err }, 'start-up failed');
    return err instanceof UsageError || err instanceof KubeconfigError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/**
 * The process's main: the exit code of this process's argv and environment, then an exit at the
 * latest EXIT_GRACE_MS later.
 */
export async function runCommand(operator: Operator): Promise<void> {
  process.exitCode = await exitCodeOf(process.argv.slice(2), process.env, operator);
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}
