import { request } from 'node:https';

export interface ApiTarget {
  server: string;
  ca: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

/**
 * One HTTPS request to the API server as the admin, for start-up work that must not depend on the
 * code under test (readiness, fake nodes). Network errors reject; any HTTP status resolves.
 */
export function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.server}${path}`,
      {
        method,
        ca: target.ca,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${target.token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Whether a component's own /healthz answers 200. kube-controller-manager and kube-scheduler serve it
 * with an in-memory self-signed certificate, which nothing can verify, and allow it anonymously
 * (--authorization-always-allow-paths defaults to /healthz, /readyz, /livez).
 */
export function componentHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `https://127.0.0.1:${port}/healthz`,
      { rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
    req.end();
  });
}
