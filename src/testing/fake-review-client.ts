import type { ReviewClient } from '../server/index.ts';

/** A posted review, as a FakeReviewClient saw it. */
export interface PostedReview {
  path: string;
  body: { kind: string; spec: Record<string, unknown> };
}

/**
 * For unit tests: answers each POST with `answer(review)` (a review object with its status, or a
 * thrown error) and records what was posted.
 */
export class FakeReviewClient implements ReviewClient {
  readonly posted: PostedReview[] = [];
  answer: (review: PostedReview) => unknown;

  constructor(answer: (review: PostedReview) => unknown) {
    this.answer = answer;
  }

  async post<T>(path: string, body: unknown, _query?: unknown, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const review = { path, body: body as PostedReview['body'] };
    this.posted.push(review);
    return (await this.answer(review)) as T;
  }

  count(kind: string): number {
    return this.posted.filter((p) => p.body.kind === kind).length;
  }
}
