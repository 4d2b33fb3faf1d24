import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ListeningServer {
  /** host:port actually bound (port 0 resolves to the kernel's choice). */
  readonly address: string;
  /** http:// or https:// and the address. */
  readonly url: string;
  close(): Promise<void>;
}

/** A bind address that turns its server off: controller-runtime's "0" for --metrics-bind-address. */
export const DISABLED_BIND_ADDRESS = '0';

/** How a server is started when the manager starts it; undefined when its bind address turned it off. */
export type ServerStart = () => Promise<ListeningServer>;

/** Splits a controller-runtime style bind address: ":8080" (every interface), "127.0.0.1:0", "[::1]:9090". */
export function parseBindAddress(bind: string): { host: string | undefined; port: number } {
  const colon = bind.lastIndexOf(':');
  const host = bind.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port: Number(bind.slice(colon + 1)) };
}

/**
 * Starts an HTTP server with `handler` on `bind`, or binds a server made elsewhere (an HTTPS one);
 * rejects with one line naming the address when it cannot bind.
 */
export async function listen(
  name: string,
  bind: string,
  handler: RequestListener | Server | HttpsServer,
): Promise<ListeningServer> {
  const { host, port } = parseBindAddress(bind);
  const server = typeof handler === 'function' ? createServer(handler) : handler;
  // Probes and scrapes are short; idle keep-alive sockets must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err as Error)),
    ]);
  } catch (err) {
    throw new Error(
      `${name} cannot listen on ${bind}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  const info = server.address() as AddressInfo;
  const address = info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
  return {
    address,
    url: `${server instanceof HttpsServer ? 'https' : 'http'}://${address}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
