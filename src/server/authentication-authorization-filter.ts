import type { RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SubjectAccessReviewAuthorizer } from './subject-access-review-authorizer.ts';
import type { TokenReviewAuthenticator } from './token-review-authenticator.ts';

export interface AuthFilterOptions {
  authenticator: Pick<TokenReviewAuthenticator, 'authenticateRequest'>;
  authorizer: Pick<SubjectAccessReviewAuthorizer, 'authorize'>;
  logger: Logger;
}

/**
 * Lets a request through to `handler` only when the API server authenticates its bearer token and
 * authorizes its user for the lower-cased method on the URL path (RBAC `nonResourceURLs`):
 * controller-runtime's pkg/metrics/filters WithAuthenticationAndAuthorization, which replaced
 * kube-rbac-proxy. Answers, plain text as Go's http.Error writes them:
 * - 401 `Unauthorized`: no bearer token, or one the TokenReview did not authenticate;
 * - 403 `Authorization denied for user <name>`: the SubjectAccessReview did not allow it;
 * - 500 `Authentication failed` / `Authorization for user <name> failed`: a review could not be made
 *   (logged at error with the API server's words, e.g. a missing RBAC grant).
 * One difference: controller-runtime answers 500 to a token the TokenReview refuses, because
 * k8s.io/apiserver's bearer token authenticator turns that refusal into an error; here it is 401, as
 * kube-apiserver's own authentication filter answers it (endpoints/filters WithAuthentication).
 */
export function withAuthenticationAndAuthorization(
  handler: RequestListener,
  options: AuthFilterOptions,
): RequestListener {
  const { authenticator, authorizer, logger } = options;
  return (req, res) => {
    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) aborted.abort(new Error('client went away'));
    });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    void (async () => {
      let authentication;
      try {
        authentication = await authenticator.authenticateRequest(req.headers.authorization);
      } catch (err) {
        logger.error({ err, path }, 'Authentication failed');
        plainError(res, 500, 'Authentication failed');
        return;
      }
      if (!authentication.authenticated) {
        logger.debug({ path, reason: authentication.reason }, 'Unauthorized');
        plainError(res, 401, 'Unauthorized');
        return;
      }
      const { user } = authentication;
      const verb = (req.method ?? 'GET').toLowerCase();
      let decision;
      try {
        decision = await authorizer.authorize({ user, verb, path }, aborted.signal);
      } catch (err) {
        if (aborted.signal.aborted) return;
        const msg = `Authorization for user ${user.username} failed`;
        logger.error({ err, path }, msg);
        plainError(res, 500, msg);
        return;
      }
      if (!decision.allowed) {
        const msg = `Authorization denied for user ${user.username}`;
        logger.debug({ path, verb, reason: decision.reason }, msg);
        plainError(res, 403, msg);
        return;
      }
      handler(req, res);
    })();
  };
}

function plainError(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent || res.destroyed) return;
  res
    .writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
    .end(`${message}\n`);
}
