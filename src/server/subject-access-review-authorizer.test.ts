import { describe, expect, it } from 'vitest';
import { ApiError } from '../client/index.ts';
import { FakeClock, FakeReviewClient, type PostedReview } from '../testing/index.ts';
import {
  SUBJECT_ACCESS_REVIEWS_PATH,
  SubjectAccessReviewAuthorizer,
} from './subject-access-review-authorizer.ts';

const PROMETHEUS = {
  username: 'system:serviceaccount:monitoring:prometheus',
  uid: 'u-1',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};
const NOBODY = { username: 'system:serviceaccount:default:nobody', groups: ['system:authenticated'] };
const signal = new AbortController().signal;

/** RBAC as the test has it: Prometheus may get /metrics, nobody else may do anything. */
function subjectAccessReviews(review: PostedReview) {
  const allowed = review.body.spec.user === PROMETHEUS.username;
  return {
    status: allowed ? { allowed, reason: 'RBAC: allowed by ClusterRoleBinding' } : { allowed: false },
  };
}

function setup(answer: (review: PostedReview) => unknown = subjectAccessReviews) {
  const clock = new FakeClock();
  const client = new FakeReviewClient(answer);
  return { clock, client, authz: new SubjectAccessReviewAuthorizer({ client, clock, random: () => 0 }) };
}

describe('SubjectAccessReviewAuthorizer', () => {
  it('asks for the non-resource URL and verb on behalf of the user, uid and groups', async () => {
    const { client, authz } = setup();
    expect(await authz.authorize({ user: PROMETHEUS, verb: 'get', path: '/metrics' }, signal)).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding',
    });
    expect(client.posted).toEqual([
      {
        path: SUBJECT_ACCESS_REVIEWS_PATH,
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            nonResourceAttributes: { path: '/metrics', verb: 'get' },
            user: PROMETHEUS.username,
            groups: PROMETHEUS.groups,
            uid: 'u-1',
          },
        },
      },
    ]);
  });

  it('caches an allow for 5 minutes', async () => {
    const { clock, client, authz } = setup();
    const scrape = () => authz.authorize({ user: PROMETHEUS, verb: 'get', path: '/metrics' }, signal);
    for (let t = 0; t < 300_000; t += 15_000) {
      expect((await scrape()).allowed).toBe(true);
      clock.step(15_000);
    }
    expect(client.count('SubjectAccessReview')).toBe(1);
    await scrape();
    expect(client.count('SubjectAccessReview')).toBe(2);
  });

  it('caches a deny for 30 s only, so a new grant takes effect soon', async () => {
    const { clock, client, authz } = setup();
    const scrape = () => authz.authorize({ user: NOBODY, verb: 'get', path: '/metrics' }, signal);
    expect((await scrape()).allowed).toBe(false);
    clock.step(29_999);
    await scrape();
    expect(client.count('SubjectAccessReview')).toBe(1);
    clock.step(1);
    await scrape();
    expect(client.count('SubjectAccessReview')).toBe(2);
  });

  it('caches by the whole request: another verb or path is another review', async () => {
    const { client, authz } = setup();
    await authz.authorize({ user: PROMETHEUS, verb: 'get', path: '/metrics' }, signal);
    await authz.authorize({ user: PROMETHEUS, verb: 'post', path: '/metrics' }, signal);
    await authz.authorize({ user: PROMETHEUS, verb: 'get', path: '/debug' }, signal);
    await authz.authorize({ user: { ...PROMETHEUS, groups: [] }, verb: 'get', path: '/metrics' }, signal);
    expect(client.count('SubjectAccessReview')).toBe(4);
  });

  it('treats "no opinion" as a deny, fails on allow+deny, and caches no failed review', async () => {
    let answer: unknown = { status: {} };
    const { client, authz } = setup(() => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    expect(await authz.authorize({ user: NOBODY, verb: 'get', path: '/a' }, signal)).toEqual({
      allowed: false,
      reason: '',
    });
    answer = { status: { allowed: true, denied: true } };
    await expect(authz.authorize({ user: NOBODY, verb: 'get', path: '/b' }, signal)).rejects.toThrow(
      'both allow and deny',
    );
    answer = new ApiError(403, 'subjectaccessreviews.authorization.k8s.io is forbidden');
    await expect(authz.authorize({ user: NOBODY, verb: 'get', path: '/c' }, signal)).rejects.toThrow(
      'forbidden',
    );
    answer = { status: { allowed: true } };
    expect((await authz.authorize({ user: NOBODY, verb: 'get', path: '/c' }, signal)).allowed).toBe(true);
    expect(client.count('SubjectAccessReview')).toBe(4);
  });
});
