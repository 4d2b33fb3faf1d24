import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/** Asks the kernel for a free loopback port. Another process may take it before we bind: callers retry. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
