import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './flags.ts';
import type { Settings } from './settings.ts';

/**
 * The namespace this pod runs in: the service-account namespace file, then $POD_NAMESPACE (downward
 * API). Undefined outside a cluster.
 */
export function podNamespace(serviceAccountDir: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const fromFile = readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // Not in a cluster, or no token mounted.
  }
  return env.POD_NAMESPACE?.trim() || undefined;
}

/**
 * The namespace of the Lease: --leader-election-namespace, else the pod's own.
 * @throws UsageError outside a pod without the flag.
 */
export function leaseNamespace(settings: Settings, env: NodeJS.ProcessEnv): string {
  const namespace = settings.leaderElectionNamespace || podNamespace(settings.serviceAccountDir, env);
  if (!namespace) {
    throw new UsageError(
      '--leader-elect needs --leader-election-namespace when not running in a pod (no service-account namespace file, no $POD_NAMESPACE)',
    );
  }
  return namespace;
}
