import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';

export interface IdentitySources {
  /** Environment to read POD_NAME from; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  hostname?: () => string;
  /** The unique suffix; a random UUID by default. */
  suffix?: () => string;
}

/**
 * A candidate identity unique to this process: the Pod name (POD_NAME, set through the downward API)
 * or else the hostname, then "_" and a random UUID, as controller-runtime builds it. The suffix keeps
 * a restarted process from being mistaken for the previous holder of the same name.
 */
export function leaderElectionIdentity(sources: IdentitySources = {}): string {
  const env = sources.env ?? process.env;
  const base = env.POD_NAME?.trim() || (sources.hostname ?? osHostname)();
  return `${base}_${(sources.suffix ?? randomUUID)()}`;
}
