// Defaults of the metrics and probe servers, each with its value and its source. The numbers of the
// secure metrics filter are controller-runtime's (pkg/metrics/filters/filters.go
// WithAuthenticationAndAuthorization), which hands them to k8s.io/apiserver's delegating authenticator
// and authorizer.

/**
 * A TokenReview's answer (authenticated or not) is reused for 1 minute: controller-runtime's CacheTTL,
 * used by k8s.io/apiserver's cached token authenticator as both success and failure TTL.
 */
export const TOKEN_REVIEW_CACHE_TTL_MS = 60_000;

/** One token's review, retries included, gives up after 10 s: controller-runtime's TokenAccessReviewTimeout. */
export const TOKEN_REVIEW_TIMEOUT_MS = 10_000;

/** An allowing SubjectAccessReview is reused for 5 minutes: controller-runtime's AllowCacheTTL. */
export const SUBJECT_ACCESS_REVIEW_ALLOW_TTL_MS = 300_000;

/**
 * A denying (or undecided) SubjectAccessReview is reused for 30 s: controller-runtime's DenyCacheTTL,
 * short so that a new RoleBinding takes effect soon ("deny, try again").
 */
export const SUBJECT_ACCESS_REVIEW_DENY_TTL_MS = 30_000;

/**
 * Retries of a review that failed transiently: 500 ms, x1.5 per step, jitter 0.2, 5 attempts in all.
 * controller-runtime copies k8s.io/apiserver's DefaultAuthWebhookRetryBackoff.
 */
export const REVIEW_RETRY_BACKOFF = { initialMs: 500, factor: 1.5, jitter: 0.2, steps: 5 } as const;

/**
 * Cached decisions per kind: 8192, the size of k8s.io/apiserver's webhook authorizer LRU cache. Its
 * token cache is unbounded; ours is bounded alike so that a flood of distinct tokens cannot grow memory.
 */
export const REVIEW_CACHE_MAX_ENTRIES = 8192;

/** The certificate and key files are re-read every 10 s besides on change: controller-runtime's certwatcher. */
export const CERTIFICATE_POLL_INTERVAL_MS = 10_000;

/** File names in --metrics-cert-dir: controller-runtime's CertName and KeyName, a kubernetes.io/tls Secret's keys. */
export const CERTIFICATE_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

/**
 * The self-signed pair: valid from an hour ago (clock skew) for a year, for localhost and 127.0.0.1,
 * client-go's util/cert GenerateSelfSignedCertKeyWithFixtures as controller-runtime calls it.
 */
export const SELF_SIGNED_HOST = 'localhost';
export const SELF_SIGNED_IPS: readonly string[] = ['127.0.0.1'];
export const SELF_SIGNED_BACKDATE_MS = 3_600_000;
export const SELF_SIGNED_VALIDITY_MS = 365 * 24 * 3_600_000;
export const SELF_SIGNED_RSA_BITS = 2048;
