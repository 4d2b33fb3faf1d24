import {
  createConfiguration,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type RequestContext,
} from '@kubernetes/client-node';
import type { KubeTransport } from '../../src/client/index.ts';

/**
 * A configuration for client-node's generated APIs (`new CoreV1Api(apiConfiguration(transport))`)
 * whose requests go through `transport`: the same connection pool, credentials and request counter
 * as our RestClient, instead of a new undici Agent per request. `maxRetries` overrides the
 * transport's retries after a 429 or 5xx with a Retry-After (0 for a caller with a retry loop of its own).
 */
export function apiConfiguration(
  transport: KubeTransport,
  options: { maxRetries?: number } = {},
): Configuration {
  const origin = new URL(transport.server).origin;
  const basePath = new URL(transport.server).pathname.replace(/\/+$/, '');
  return createConfiguration({
    baseServer: new ServerConfiguration<Record<string, string>>(transport.server, {}),
    // The transport adds the credentials; client-node's own authentication would build a dispatcher.
    authMethods: {},
    httpApi: wrapHttpLibrary({
      send: (request) => send(transport, origin, basePath, request, options.maxRetries),
    }),
  });
}

async function send(
  transport: KubeTransport,
  origin: string,
  basePath: string,
  request: RequestContext,
  maxRetries: number | undefined,
): Promise<ResponseContext> {
  const url = new URL(request.getUrl());
  if (url.origin !== origin) throw new Error(`${url.origin} is not the transport's server ${origin}`);
  const path = `${url.pathname.slice(basePath.length)}${url.search}`;
  const body = request.getBody();
  if (body !== undefined && typeof body !== 'string') {
    throw new Error('only string request bodies are supported over the shared transport');
  }
  const signal = request.getSignal();
  const response = await transport.request({
    method: request.getHttpMethod(),
    path,
    headers: request.getHeaders(),
    ...(body !== undefined ? { body } : {}),
    ...(signal ? { signal } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // The generated code reads the body exactly once, as text or as binary.
  const bytes = response.body.arrayBuffer().then((b) => Buffer.from(b));
  bytes.catch(() => undefined);
  return new ResponseContext(response.status, headers, {
    text: async () => (await bytes).toString('utf8'),
    binary: () => bytes,
    stream: () => null,
  });
}
