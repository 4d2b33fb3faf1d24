/** Every tunable default of the REST layer, with its value and the reason for it. */

import { VERSION } from '../version.ts';

/**
 * TCP keep-alive probes start after 30 s of silence on a socket, client-go's dialer value: the kernel
 * then notices a peer that vanished without a FIN (node lost, NAT entry dropped) on idle connections.
 */
export const TCP_KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/**
 * An idle pooled socket is closed after 30 s: before the 60 s idle timeout of common cloud load
 * balancers closes it under us, since undici does not retry a request sent on a socket being closed.
 */
export const IDLE_SOCKET_TIMEOUT_MS = 30_000;

/**
 * An HTTP/2 connection sends a PING every 30 s, client-go's ReadIdleTimeout: a healthy connection
 * then reads a frame (the ack) at least that often, even while every watch on it is quiet.
 */
export const HTTP2_READ_IDLE_TIMEOUT_MS = 30_000;

/**
 * An HTTP/2 connection that read nothing for 30 + 15 s is closed, client-go's PingTimeout: a silently
 * dead one would otherwise stall every watch and request multiplexed on it.
 */
export const HTTP2_PING_TIMEOUT_MS = 15_000;

/** A token file is re-read at most once a minute, as client-go's cached file token source does. */
export const TOKEN_FILE_REREAD_MS = 60_000;

/**
 * The User-Agent of every request, "pod-sync-operator/<version>", so that API-server audit logs and
 * flow control tell us apart, and one release from another (client-go: "<binary>/<version> ...").
 */
export const USER_AGENT = `pod-sync-operator/${VERSION}`;

/**
 * Client-side request rate: 50 per second, burst 100 (--kube-api-qps, --kube-api-burst). client-go's
 * 5 qps / burst 10 throttle an informer relist: paged lists of 10,000 pods are 20 requests, and every
 * owner kind met adds a list and a watch. The transport's default as well (TransportOptions.rateLimit).
 */
export const KUBE_API_QPS = 50;
export const KUBE_API_BURST = 100;

/** How much of a malformed watch line an error keeps: enough to diagnose, not a whole object. */
export const MALFORMED_LINE_PREVIEW_CHARS = 200;

/**
 * A request answered 429 or 5xx with a Retry-After is sent again at most 10 times, after the seconds
 * asked each time: client-go's default (rest/request.go NewRequest maxRetries, rest/with_retry.go).
 */
export const MAX_RETRIES = 10;

/**
 * A missing exec plugin's error carries the verbose help and the kubeconfig's installHint at most 10
 * times an hour, as client-go's exec authenticator rate-limits it, so a retrying client does not flood
 * the logs with it.
 */
export const EXEC_INSTALL_HINTS_PER_HOUR = 10;
