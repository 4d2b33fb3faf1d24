/**
 * What the Lease says about the election, as the elector reads and writes it (client-go's
 * LeaderElectionRecord). Times are MicroTime strings written from wall clocks: other candidates only
 * compare them for change, never for expiry, because the writer's clock may be skewed.
 */
export interface LeaderElectionRecord {
  /** '' when nobody holds the Lease (never acquired, or released). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

/**
 * metav1.MicroTime's wire format: RFC 3339 in UTC with exactly six fractional digits. A JS Date has
 * millisecond precision, so the last three digits are zeros.
 */
export function formatMicroTime(date: Date): string {
  const iso = date.toISOString(); // 2006-01-02T15:04:05.000Z
  return `${iso.slice(0, -1)}000Z`;
}

/** Whether two records are the same, field by field: any change restarts the observer's lease clock. */
export function sameRecord(
  a: LeaderElectionRecord | undefined,
  b: LeaderElectionRecord | undefined,
): boolean {
  if (!a || !b) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
