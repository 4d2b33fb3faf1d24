import type { Logger } from 'pino';

/**
 * The first SIGTERM or SIGINT aborts `shutdown` (stop taking work, drain, release, exit 0); a second
 * one exits at once, as people expect of a second Ctrl-C.
 */
export function handleShutdownSignals(shutdown: AbortController, log: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down: draining in-flight syncs');
    shutdown.abort(new Error(`received ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
