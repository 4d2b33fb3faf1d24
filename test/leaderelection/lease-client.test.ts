import { CoordinationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConflictError,
  KubernetesLeaseClient,
  LeaseLock,
} from '../../src/leaderelection/index.ts';
import {
  adminKubeConfig,
  createNamespace,
  kubeConfigWithToken,
  serviceAccountToken,
} from '../helpers/cluster.ts';

const live = (): AbortSignal => new AbortController().signal;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('KubernetesLeaseClient against the API server', () => {
  const kc = adminKubeConfig();
  const client = KubernetesLeaseClient.fromKubeConfig(kc);
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
    await expect(client.create(lease, live())).rejects.toBeInstanceOf(ConflictError);

    // The server stores MicroTime with microseconds, as our strings say.
    const raw = await api.readNamespacedLease({ name: 'lock', namespace });
    expect(String(raw.spec?.renewTime)).toMatch(MICRO_TIME);
    expect(raw.metadata?.labels).toEqual({ app: 'pod-sync-operator' });
  });

  it('updates with the resourceVersion it read, so a stale update gets ConflictError', async () => {
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
    await expect(
      client.update({ ...created, spec: { ...created.spec, holderIdentity: 'c' } }, live()),
    ).rejects.toBeInstanceOf(ConflictError);
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

  it('reports a request refused by RBAC as AccessDeniedError with the server message, not a dump', async () => {
    const namespace = await createNamespace('le-client');
    const token = await serviceAccountToken(namespace, 'no-rbac');
    const denied = KubernetesLeaseClient.fromKubeConfig(kubeConfigWithToken(token));
    const get = denied.get(namespace, 'lock', live());
    await expect(get).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(get).rejects.toMatchObject({ code: 403 });
    await expect(get).rejects.toThrow(
      /^leases.coordination.k8s.io "lock" is forbidden: .* cannot get resource "leases"/,
    );
    const lease = { metadata: { name: 'lock', namespace }, spec: { holderIdentity: 'a' } };
    await expect(denied.create(lease, live())).rejects.toThrow(/cannot create resource "leases"/);
  });
});
