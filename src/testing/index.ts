export { FakeClock } from './fake-clock.ts';
export { FakeLeaseClient, type LeaseOperation, type RequestHook } from './fake-lease-client.ts';
export { FakeRestClient, FakeWatch, type FakeCall } from './fake-rest-client.ts';
export { FakeReviewClient, type PostedReview } from './fake-review-client.ts';
