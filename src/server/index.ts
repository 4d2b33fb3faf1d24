export { healthHandler } from './health-server.ts';
export { listen, type ListeningServer } from './listen.ts';
export { serveMetrics } from './metrics-server.ts';
export { type CertKeyPair, generateSelfSignedCertKey } from './self-signed-certificate.ts';
export type { ReviewClient } from './token-review-authenticator.ts';
export { withAuthenticationAndAuthorization } from './authentication-authorization-filter.ts';
export { CertificateWatcher } from './certificate-watcher.ts';
