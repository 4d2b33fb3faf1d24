export { healthHandler, healthProbeServer } from './health-server.ts';
export { DISABLED_BIND_ADDRESS, listen, type ListeningServer, type ServerStart } from './listen.ts';
export { metricsServer, serveMetrics } from './metrics-server.ts';
export { type CertKeyPair, generateSelfSignedCertKey } from './self-signed-certificate.ts';
export type { ReviewClient } from './token-review-authenticator.ts';
export { withAuthenticationAndAuthorization } from './authentication-authorization-filter.ts';
export { CertificateWatcher } from './certificate-watcher.ts';
