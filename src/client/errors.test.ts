import { describe, expect, it } from 'vitest';
import { ApiError, isGone, isTooManyRequests, retryAfterMs } from './errors.ts';

describe('ApiError', () => {
  it('takes code, reason and message from a Status body', () => {
    const err = new ApiError(404, {
      kind: 'Status',
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      code: 404,
    });
    expect(err).toMatchObject({ code: 404, reason: 'NotFound', message: 'HTTP 404: pods "x" not found' });
    expect(err.body).toMatchObject({ kind: 'Status' });
  });

  it('guesses the reason from the code when the body is not a Status', () => {
    const err = new ApiError(503, 'upstream connect error');
    expect(err).toMatchObject({ code: 503, reason: 'ServiceUnavailable', body: 'upstream connect error' });
    expect(new ApiError(418, '').reason).toBeUndefined();
  });

  it('reads retry-after from the header or the Status details', () => {
    expect(new ApiError(429, '', 7).retryAfterSeconds).toBe(7);
    expect(new ApiError(429, { kind: 'Status', details: { retryAfterSeconds: 2 } }).retryAfterSeconds).toBe(
      2,
    );
    expect(isTooManyRequests(new ApiError(429, ''))).toBe(true);
  });

  it('turns an ERROR event Status into an error with its code', () => {
    const err = ApiError.fromStatus({
      kind: 'Status',
      code: 410,
      reason: 'Expired',
      message: 'too old resource version',
    });
    expect(isGone(err)).toBe(true);
    expect(err.reason).toBe('Expired');
    expect(isGone(ApiError.fromStatus({ kind: 'Status' }))).toBe(false);
    expect(isGone(new Error('410'))).toBe(false);
  });

  it('finds the Retry-After of an error or of one of its causes, in ms', () => {
    const throttled = new ApiError(429, '', 30);
    expect(retryAfterMs(throttled)).toBe(30_000);
    expect(retryAfterMs(new Error('lease request failed', { cause: throttled }))).toBe(30_000);
    expect(retryAfterMs(new ApiError(503, ''))).toBeUndefined();
    expect(retryAfterMs(new Error('connection refused'))).toBeUndefined();
    expect(retryAfterMs('not an error')).toBeUndefined();
  });
});
