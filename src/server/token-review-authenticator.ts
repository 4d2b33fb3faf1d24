import { createHmac, randomBytes } from 'node:crypto';
import type { RestWriter } from '../client/index.ts';
import type { Clock } from '../clock/index.ts';
import { REVIEW_CACHE_MAX_ENTRIES, TOKEN_REVIEW_CACHE_TTL_MS, TOKEN_REVIEW_TIMEOUT_MS } from './defaults.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { withReviewRetry } from './review-retry.ts';

/** Who a caller is, as the API server's TokenReview says (authentication.k8s.io/v1 UserInfo). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A caller the API server authenticated, or why not (no bearer token, or a token it did not accept). */
export type Authentication =
  { authenticated: true; user: UserInfo } | { authenticated: false; reason: string };

/** What the reviews are sent with: our REST client's POST. */
export type ReviewClient = Pick<RestWriter, 'post'>;

interface TokenReview {
  status?: { authenticated?: boolean; user?: Partial<UserInfo>; error?: string };
}

export const TOKEN_REVIEWS_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const ALL_AUTHENTICATED = 'system:authenticated';
const ALL_UNAUTHENTICATED = 'system:unauthenticated';
const ANONYMOUS = 'system:anonymous';

export interface TokenReviewAuthenticatorOptions {
  client: ReviewClient;
  clock: Clock;
  cacheTtlMs?: number;
  timeoutMs?: number;
  maxEntries?: number;
  random?: () => number;
}

/**
 * Authenticates a request by its bearer token with a TokenReview (authentication.k8s.io/v1), as
 * k8s.io/apiserver's DelegatingAuthenticatorConfig does for controller-runtime's secure metrics, with
 * anonymous access off:
 * - the token comes from `Authorization: Bearer <token>` (bearertoken.Authenticator); a request
 *   without one is not authenticated and costs no review;
 * - answers are cached for 1 minute, authenticated or not, keyed by an HMAC of the token under a
 *   random key, so tokens are not kept in memory (token/cache cachedTokenAuthenticator); a review
 *   that failed, or that refused the token with an error, is not cached;
 * - concurrent requests with one token share one review (its singleflight group);
 * - a review is retried on transient failures and bounded by 10 s in all (webhook.WebhookTokenAuthenticator);
 * - an authenticated user gets the group system:authenticated (group.AuthenticatedGroupAdder).
 * authenticateRequest rejects when the review itself could not be made (RBAC, API server down).
 */
export class TokenReviewAuthenticator {
  readonly #client: ReviewClient;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  readonly #cache: ExpiringCache<Authentication>;
  readonly #inFlight = new Map<string, Promise<Authentication>>();
  readonly #hmacKey = randomBytes(32);

  constructor(options: TokenReviewAuthenticatorOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#ttlMs = options.cacheTtlMs ?? TOKEN_REVIEW_CACHE_TTL_MS;
    this.#timeoutMs = options.timeoutMs ?? TOKEN_REVIEW_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    this.#cache = new ExpiringCache(options.clock, options.maxEntries ?? REVIEW_CACHE_MAX_ENTRIES);
  }

  /** Authenticates by the value of the request's Authorization header. */
  authenticateRequest(authorization: string | undefined): Promise<Authentication> {
    const token = bearerToken(authorization);
    if (token === undefined) {
      return Promise.resolve({ authenticated: false, reason: 'no bearer token' });
    }
    return this.authenticateToken(token);
  }

  async authenticateToken(token: string): Promise<Authentication> {
    const key = createHmac('sha256', this.#hmacKey).update(token).digest('base64');
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let review = this.#inFlight.get(key);
    if (!review) {
      review = this.#review(key, token).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, review);
    }
    return review;
  }

  async #review(key: string, token: string): Promise<Authentication> {
    const timeout = new AbortController();
    const timer = this.#clock.setTimeout(() => {
      timeout.abort(new Error(`TokenReview timed out after ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    let review: TokenReview;
    try {
      review = await withReviewRetry(
        (signal) =>
          this.#client.post<TokenReview>(
            TOKEN_REVIEWS_PATH,
            { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
            undefined,
            signal,
          ),
        this.#clock,
        timeout.signal,
        this.#random,
      );
    } finally {
      this.#clock.clearTimeout(timer);
    }
    const status = review.status ?? {};
    if (status.authenticated !== true) {
      const result: Authentication = {
        authenticated: false,
        reason: status.error || 'token not authenticated',
      };
      // cachedTokenAuthenticator does not cache errors, and a refusal with status.error is one.
      if (!status.error) this.#cache.set(key, result, this.#ttlMs);
      return result;
    }
    const result: Authentication = { authenticated: true, user: withAuthenticatedGroup(status.user ?? {}) };
    this.#cache.set(key, result, this.#ttlMs);
    return result;
  }
}

/**
 * The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined when there is
 * none: k8s.io/apiserver's bearertoken.Authenticator, which also ignores an empty token.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  const value = authorization?.trim() ?? '';
  if (value === '') return undefined;
  const parts = value.split(' ');
  if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
  const token = parts[1] ?? '';
  return token === '' ? undefined : token;
}

function withAuthenticatedGroup(user: Partial<UserInfo>): UserInfo {
  const groups = user.groups ?? [];
  const info: UserInfo = {
    username: user.username ?? '',
    groups,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.extra ? { extra: user.extra } : {}),
  };
  if (info.username === ANONYMOUS) return info;
  if (groups.includes(ALL_AUTHENTICATED) || groups.includes(ALL_UNAUTHENTICATED)) return info;
  return { ...info, groups: [...groups, ALL_AUTHENTICATED] };
}
