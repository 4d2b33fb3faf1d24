import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withAuthenticationAndAuthorization } from './authentication-authorization-filter.ts';
import type { Authentication } from './token-review-authenticator.ts';
import { captureLogs } from '../testing/index.ts';

const PROMETHEUS = {
  username: 'system:serviceaccount:monitoring:prometheus',
  groups: ['system:authenticated'],
};
const NOBODY = { username: 'system:serviceaccount:default:nobody', groups: ['system:authenticated'] };

/** Tokens as the fake API server sees them: who each one is, or a review that cannot be made. */
const TOKENS: Record<string, Authentication | Error> = {
  prometheus: { authenticated: true, user: PROMETHEUS },
  nobody: { authenticated: true, user: NOBODY },
  expired: { authenticated: false, reason: 'token has expired' },
  'no-rbac': new Error('tokenreviews.authentication.k8s.io is forbidden'),
};

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function serve(authorizeError?: Error) {
  const { logger, lines } = captureLogs();
  const asked: string[] = [];
  const inner: RequestListener = (_req, res) => res.writeHead(200).end('metrics\n');
  const server = createServer(
    withAuthenticationAndAuthorization(inner, {
      authenticator: {
        authenticateRequest: (header) => {
          const token = header?.replace(/^Bearer /, '');
          const known = token === undefined ? undefined : TOKENS[token];
          if (known instanceof Error) return Promise.reject(known);
          return Promise.resolve(known ?? { authenticated: false, reason: 'unknown' });
        },
      },
      authorizer: {
        authorize: ({ user, verb, path }) => {
          asked.push(`${user.username} ${verb} ${path}`);
          if (authorizeError) return Promise.reject(authorizeError);
          return Promise.resolve({ allowed: user === PROMETHEUS && verb === 'get', reason: '' });
        },
      },
      logger,
    }),
  );
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => server.close());
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/metrics`;
  const get = async (token?: string, method = 'GET') => {
    const res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };
  return { get, asked, lines };
}

describe('withAuthenticationAndAuthorization', () => {
  it('answers 401 without a token, or with one the API server does not authenticate', async () => {
    const { get, asked } = await serve();
    expect(await get()).toEqual({ status: 401, body: 'Unauthorized\n', type: 'text/plain; charset=utf-8' });
    expect((await get('expired')).status).toBe(401);
    expect((await get('forged')).status).toBe(401);
    expect(asked).toEqual([]);
  });

  it('answers 403 naming the user when the SubjectAccessReview does not allow it', async () => {
    const { get, asked } = await serve();
    expect(await get('nobody')).toMatchObject({
      status: 403,
      body: 'Authorization denied for user system:serviceaccount:default:nobody\n',
    });
    expect((await get('prometheus', 'POST')).status).toBe(403);
    expect(asked).toEqual([
      'system:serviceaccount:default:nobody get /metrics',
      'system:serviceaccount:monitoring:prometheus post /metrics',
    ]);
  });

  it('serves an authenticated and authorized caller', async () => {
    const { get } = await serve();
    expect(await get('prometheus')).toMatchObject({ status: 200, body: 'metrics\n' });
  });

  it('answers 500 and logs the reason when a review cannot be made', async () => {
    const denied = await serve();
    expect(await denied.get('no-rbac')).toMatchObject({ status: 500, body: 'Authentication failed\n' });
    expect(denied.lines.find((l) => l.level === 50)).toMatchObject({
      msg: 'Authentication failed',
      path: '/metrics',
      err: { message: 'tokenreviews.authentication.k8s.io is forbidden' },
    });
    const broken = await serve(new Error('subjectaccessreviews.authorization.k8s.io is forbidden'));
    expect(await broken.get('prometheus')).toMatchObject({
      status: 500,
      body: 'Authorization for user system:serviceaccount:monitoring:prometheus failed\n',
    });
  });
});
