import type { Clock } from '../clock/index.ts';
import {
  REVIEW_CACHE_MAX_ENTRIES,
  SUBJECT_ACCESS_REVIEW_ALLOW_TTL_MS,
  SUBJECT_ACCESS_REVIEW_DENY_TTL_MS,
} from './defaults.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { withReviewRetry } from './review-retry.ts';
import type { ReviewClient, UserInfo } from './token-review-authenticator.ts';

/** A request to a non-resource URL: who, which verb (the lower-cased HTTP method), which path. */
export interface NonResourceAttributes {
  user: UserInfo;
  verb: string;
  path: string;
}

/** allow: the API server's RBAC grants it; deny: it denies it or has no opinion. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export const SUBJECT_ACCESS_REVIEWS_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface SubjectAccessReviewAuthorizerOptions {
  client: ReviewClient;
  clock: Clock;
  allowTtlMs?: number;
  denyTtlMs?: number;
  maxEntries?: number;
  random?: () => number;
}

/**
 * Authorizes a non-resource request with a SubjectAccessReview (authorization.k8s.io/v1), as
 * k8s.io/apiserver's DelegatingAuthorizerConfig (webhook.WebhookAuthorizer) does for
 * controller-runtime's secure metrics:
 * - the review carries the user, uid, groups and extra, and nonResourceAttributes {path, verb};
 * - its status is cached by the review's spec: 5 minutes when allowed, 30 s otherwise;
 * - a review is retried on transient failures; one that failed is not cached;
 * - allowed and denied both set is an error, as there.
 * authorize rejects when the review could not be made or contradicts itself.
 */
export class SubjectAccessReviewAuthorizer {
  readonly #client: ReviewClient;
  readonly #clock: Clock;
  readonly #allowTtlMs: number;
  readonly #denyTtlMs: number;
  readonly #random: () => number;
  readonly #cache: ExpiringCache<SubjectAccessReviewStatus>;

  constructor(options: SubjectAccessReviewAuthorizerOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#allowTtlMs = options.allowTtlMs ?? SUBJECT_ACCESS_REVIEW_ALLOW_TTL_MS;
    this.#denyTtlMs = options.denyTtlMs ?? SUBJECT_ACCESS_REVIEW_DENY_TTL_MS;
    this.#random = options.random ?? Math.random;
    this.#cache = new ExpiringCache(options.clock, options.maxEntries ?? REVIEW_CACHE_MAX_ENTRIES);
  }

  /** `signal` is the request's: a caller that goes away abandons its review. */
  async authorize(attributes: NonResourceAttributes, signal: AbortSignal): Promise<Decision> {
    const { user, verb, path } = attributes;
    const spec = {
      nonResourceAttributes: { path, verb },
      user: user.username,
      groups: user.groups,
      ...(user.extra ? { extra: user.extra } : {}),
      ...(user.uid ? { uid: user.uid } : {}),
    };
    const key = JSON.stringify(spec);
    let status = this.#cache.get(key);
    if (!status) {
      const review = await withReviewRetry(
        (attempt) =>
          this.#client.post<{ status?: SubjectAccessReviewStatus }>(
            SUBJECT_ACCESS_REVIEWS_PATH,
            { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
            undefined,
            attempt,
          ),
        this.#clock,
        signal,
        this.#random,
      );
      status = review.status ?? {};
      this.#cache.set(key, status, status.allowed === true ? this.#allowTtlMs : this.#denyTtlMs);
    }
    if (status.allowed === true && status.denied === true) {
      throw new Error('webhook subject access review returned both allow and deny response');
    }
    return { allowed: status.allowed === true && status.denied !== true, reason: status.reason ?? '' };
  }
}
