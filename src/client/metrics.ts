import { Counter } from 'prom-client';
import { perRegistry } from '../metrics/index.ts';

type Label = 'code' | 'method' | 'host';

/** controller-runtime's name and help, so dashboards written for Go operators carry over. */
export const REST_CLIENT_REQUESTS = {
  name: 'rest_client_requests_total',
  help: 'Number of HTTP requests, partitioned by status code, method, and host.',
} as const;

/** The code label of a request that got no HTTP response, as client-go writes it. */
export const TRANSPORT_ERROR_CODE = '<error>';

export type RequestCounter = Counter<Label>;

/** The request counter on `registry`, or one registered nowhere (still counting) without it. */
export const restClientRequests = perRegistry(
  (registers): RequestCounter =>
    new Counter({ ...REST_CLIENT_REQUESTS, labelNames: ['code', 'method', 'host'], registers }),
);
