import { describe, expect, it } from 'vitest';
import { ApiError } from '../client/index.ts';
import { advance, FakeClock, FakeReviewClient, type PostedReview } from '../testing/index.ts';
import { bearerToken, TOKEN_REVIEWS_PATH, TokenReviewAuthenticator } from './token-review-authenticator.ts';

const ALICE = {
  username: 'system:serviceaccount:monitoring:prometheus',
  uid: 'u-1',
  groups: ['system:serviceaccounts'],
};

/** The API server's answer: `good` is Alice's token; anything else is refused without an error. */
function tokenReviews(review: PostedReview) {
  const authenticated = review.body.spec.token === 'good';
  return { status: authenticated ? { authenticated, user: ALICE } : { authenticated: false } };
}

function setup(answer: (review: PostedReview) => unknown = tokenReviews) {
  const clock = new FakeClock();
  const client = new FakeReviewClient(answer);
  return { clock, client, authn: new TokenReviewAuthenticator({ client, clock, random: () => 0 }) };
}

describe('bearerToken (k8s.io/apiserver bearertoken.Authenticator)', () => {
  it('takes the token of a Bearer header, whatever the scheme case', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('  BEARER abc  ')).toBe('abc');
  });

  it('finds none without a header, another scheme, or an empty token', () => {
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer  abc', 'abc']) {
      expect(bearerToken(header), String(header)).toBeUndefined();
    }
  });
});

describe('TokenReviewAuthenticator', () => {
  it('sends a TokenReview and adds system:authenticated to the user it names', async () => {
    const { client, authn } = setup();
    expect(await authn.authenticateRequest('Bearer good')).toEqual({
      authenticated: true,
      user: { ...ALICE, groups: ['system:serviceaccounts', 'system:authenticated'] },
    });
    expect(client.posted).toEqual([
      {
        path: TOKEN_REVIEWS_PATH,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'good' } },
      },
    ]);
  });

  it('refuses a request without a bearer token without asking the API server (anonymous is off)', async () => {
    const { client, authn } = setup();
    expect(await authn.authenticateRequest(undefined)).toMatchObject({ authenticated: false });
    expect(await authn.authenticateRequest('Basic eDp5')).toMatchObject({ authenticated: false });
    expect(client.posted).toEqual([]);
  });

  it('caches an answer, authenticated or not, for 1 minute', async () => {
    const { clock, client, authn } = setup();
    for (let scrape = 0; scrape < 4; scrape++) {
      expect(await authn.authenticateToken('good')).toMatchObject({ authenticated: true });
      expect(await authn.authenticateToken('stale')).toMatchObject({ authenticated: false });
      clock.step(14_999);
    }
    expect(client.count('TokenReview')).toBe(2);
    clock.step(60_000 - 4 * 14_999 - 1);
    await authn.authenticateToken('good');
    expect(client.count('TokenReview')).toBe(2);
    clock.step(1);
    await authn.authenticateToken('good');
    await authn.authenticateToken('stale');
    expect(client.count('TokenReview')).toBe(4);
  });

  it('does not cache a refusal that carries an error, nor a review that failed', async () => {
    let failing = true;
    const { client, authn } = setup((review) => {
      if (failing) throw new ApiError(403, 'tokenreviews.authentication.k8s.io is forbidden');
      return review.body.spec.token === 'good'
        ? tokenReviews(review)
        : {
            status: {
              authenticated: false,
              error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
            },
          };
    });
    await expect(authn.authenticateToken('good')).rejects.toThrow('forbidden');
    failing = false;
    expect(await authn.authenticateToken('good')).toMatchObject({ authenticated: true });
    expect(await authn.authenticateToken('garbage')).toEqual({
      authenticated: false,
      reason: '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
    });
    await authn.authenticateToken('garbage');
    expect(client.count('TokenReview')).toBe(4);
  });

  it('sends one review for concurrent requests with the same token', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client, authn } = setup(async (review) => {
      await gate;
      return tokenReviews(review);
    });
    const answers = Promise.all([1, 2, 3].map(() => authn.authenticateRequest('Bearer good')));
    release();
    expect((await answers).every((a) => a.authenticated)).toBe(true);
    expect(client.count('TokenReview')).toBe(1);
  });

  it('gives up on a review after 10 s, retries included', async () => {
    const clock = new FakeClock();
    // Every attempt takes 4 s and fails retriably, so the retries run into the 10 s bound.
    const client = new FakeReviewClient(
      () =>
        new Promise((_resolve, reject) => {
          clock.setTimeout(() => {
            reject(new ApiError(504, 'slow'));
          }, 4_000);
        }),
    );
    const authn = new TokenReviewAuthenticator({ client, clock, random: () => 0 });
    const answer = authn.authenticateToken('good').then(
      () => new Error('authenticated'),
      (err: unknown) => err as Error,
    );
    // The fake's answer ignores the abort, so the attempt in flight at 10 s ends 4 s after it began.
    await advance(clock, 20_000);
    expect((await answer).message).toBe('TokenReview timed out after 10000 ms');
    expect(client.count('TokenReview')).toBeGreaterThanOrEqual(2);
  });
});
