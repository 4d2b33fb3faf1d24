import type { RequestListener } from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics in Prometheus text format; any other path is 404. */
export function metricsHandler(registry: Registry): RequestListener {
  return (req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(`${String(err)}\n`),
    );
  };
}
