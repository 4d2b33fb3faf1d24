/**
 * The pause a Retry-After header asks for, in whole seconds, or undefined when there is none to
 * honour. delay-seconds are read as client-go reads them (rest/request.go retryAfterSeconds: a
 * decimal integer; the API server and API Priority and Fairness send only these). An HTTP-date
 * (RFC 9110 §10.2.3), which client-go ignores, is honoured too, since a proxy in front of the API
 * server may send one: the seconds from `nowMs` (wall clock) until then, rounded up, 0 once past.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  nowMs: number,
): number | undefined {
  const header = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!header) return undefined;
  if (/^\d+$/.test(header)) return Number(header);
  // An HTTP-date always names its day and zone, e.g. "Wed, 21 Oct 2015 07:28:00 GMT": a bare number
  // such as "1.5" or "-1" is not one, and Date.parse would read it as a year.
  if (!/^[A-Za-z]{3,9},? /.test(header) || !header.endsWith('GMT')) return undefined;
  const at = Date.parse(header);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
