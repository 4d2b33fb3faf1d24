export { TokenBucketRateLimiter } from './token-bucket.ts';
