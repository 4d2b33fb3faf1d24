export { advance, advanceTo } from './advance.ts';
export { eventually } from './eventually.ts';
export { FakeClock } from './fake-clock.ts';
export { FakeLeaseClient, type LeaseOperation } from './fake-lease-client.ts';
export { FakeRestClient } from './fake-rest-client.ts';
export { FakeReviewClient, type PostedReview } from './fake-review-client.ts';
export { flush, track, type Tracked } from './flush.ts';
export { captureLogs, type CapturedLoggerFactory, type LogLine } from './logs.ts';
export { metricSamples, metricSeries, metricSum, metricValue, type Labels, type Sample } from './metrics.ts';
