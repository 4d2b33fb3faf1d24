import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
