import { CoordinationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiError, HttpRestClient, isConflict, isDenied } from '../../src/client/index.ts';
import { LeaseLock, RestLeaseClient } from '../../src/leaderelection/index.ts';
import {
  adminKubeConfig,
  adminRestConfig,
  createNamespace,
  kubeConfigWithToken,
  restConfigOf,
  serviceAccountToken,
} from '../helpers/cluster.ts';

const live = (): AbortSignal => new AbortController().signal;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** The error a promise rejects with. */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('RestLeaseClient against the API server', () => {
  const kc = adminKubeConfig();
  const client = new RestLeaseClient(HttpRestClient.fromConfig(adminRestConfig()));
  const api = kc.makeApiClient(CoordinationV1Api);

  it('reads a missing Lease as undefined, creates it, and reports a second create as a conflict', async () => {
    const namespace = await createNamespace('le-client');
    expect(await client.get(namespace, 'lock', live())).toBeUndefined();
    const lease = {
      metadata: { name: 'lock', namespace, labels: { app: 'pod-sync-operator' } },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-02T03:04:05.678000Z',
        renewTime: '2026-01-02T03:04:06.000000Z',
        leaseTransitions: 0,
      },
    };
    const created = await client.create(lease, live());
    expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(created.spec).toEqual(lease.spec);
    const exists = await rejection(client.create(lease, live()));
    expect(isConflict(exists)).toBe(true);
    expect(exists).toMatchObject({ reason: 'AlreadyExists' });

    // The server stores MicroTime with microseconds, as our strings say.
    const raw = await api.readNamespacedLease({ name: 'lock', namespace });
    expect(String(raw.spec?.renewTime)).toMatch(MICRO_TIME);
    expect(raw.metadata?.labels).toEqual({ app: 'pod-sync-operator' });
  });

  it('updates with the resourceVersion it read, so a stale update gets a 409 Conflict', async () => {
    const namespace = await createNamespace('le-client');
    const created = await client.create(
      { metadata: { name: 'lock', namespace }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
      live(),
    );
    const updated = await client.update(
      { ...created, spec: { ...created.spec, holderIdentity: 'b', leaseTransitions: 1 } },
      live(),
    );
    expect(updated.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(updated.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    // `created` carries the old resourceVersion now.
    const stale = await rejection(
      client.update({ ...created, spec: { ...created.spec, holderIdentity: 'c' } }, live()),
    );
    expect(isConflict(stale)).toBe(true);
    expect(stale).toMatchObject({ reason: 'Conflict' });
    expect((await client.get(namespace, 'lock', live()))?.spec.holderIdentity).toBe('b');
  });

  it('keeps metadata it did not write (annotations, labels) across a LeaseLock update', async () => {
    const namespace = await createNamespace('le-client');
    await api.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'lock', annotations: { note: 'keep' }, labels: { team: 'x' } },
        spec: { holderIdentity: '', leaseDurationSeconds: 1 },
      },
    });
    const lock = new LeaseLock({ client, namespace, name: 'lock', identity: 'me', labels: { app: 'op' } });
    await lock.get(live());
    await lock.update(
      {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-02T03:04:05.000000Z',
        renewTime: '2026-01-02T03:04:05.000000Z',
        leaseTransitions: 1,
      },
      live(),
    );
    const raw = await api.readNamespacedLease({ name: 'lock', namespace });
    expect(raw.metadata?.annotations).toEqual({ note: 'keep' });
    expect(raw.metadata?.labels).toEqual({ team: 'x', app: 'op' });
    expect(raw.spec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 1 });
  });

  it('aborts a request when its signal aborts', async () => {
    const namespace = await createNamespace('le-client');
    const controller = new AbortController();
    controller.abort(new Error('gave up'));
    await expect(client.get(namespace, 'lock', controller.signal)).rejects.toThrow();
  });

  it('reports a request refused by RBAC as a 403 ApiError with the server message, not a dump', async () => {
    const namespace = await createNamespace('le-client');
    const token = await serviceAccountToken(namespace, 'no-rbac');
    const denied = new RestLeaseClient(HttpRestClient.fromConfig(restConfigOf(kubeConfigWithToken(token))));
    const get = await rejection(denied.get(namespace, 'lock', live()));
    expect(get).toBeInstanceOf(ApiError);
    expect(isDenied(get)).toBe(true);
    expect(get).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect((get as Error).message).toMatch(
      /^HTTP 403: leases.coordination.k8s.io "lock" is forbidden: .* cannot get resource "leases"/,
    );
    const lease = { metadata: { name: 'lock', namespace }, spec: { holderIdentity: 'a' } };
    await expect(denied.create(lease, live())).rejects.toThrow(/cannot create resource "leases"/);
  });
});
