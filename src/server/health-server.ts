import type { RequestListener } from 'node:http';
import { DISABLED_BIND_ADDRESS, listen, type ServerStart } from './listen.ts';

/** A named readiness check: true when ready, or a string saying why not. */
export type Check = () => true | string;

/**
 * /healthz answers as long as the event loop does: liveness must not depend on the API server, or an
 * outage would make the kubelet restart every replica. /readyz runs the checks (caches synced).
 * Both answer from memory without I/O, so they stay well within the 1 s probe timeout under load.
 */
export function healthHandler(readiness: Record<string, Check>): RequestListener {
  return (req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const failing = Object.entries(readiness)
        .map(([name, check]) => [name, check()] as const)
        .filter(([, result]) => result !== true);
      const body =
        failing.length === 0
          ? 'ok\n'
          : failing.map(([name, why]) => `[-]${name}: ${String(why)}`).join('\n') + '\n';
      res.writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' }).end(body);
      return;
    }
    res.writeHead(404).end('not found\n');
  };
}

/** The /healthz and /readyz server for the manager to start; undefined when `bindAddress` is "0". */
export function healthProbeServer(
  bindAddress: string,
  readiness: Record<string, Check>,
): ServerStart | undefined {
  if (bindAddress === DISABLED_BIND_ADDRESS) return undefined;
  return () => listen('health probe server', bindAddress, healthHandler(readiness));
}
