import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  createNamespace,
  kubeConfigWithToken,
  adminKubeConfig,
  serviceAccountToken,
} from '../helpers/cluster.ts';
import { eventually } from '../../src/testing/index.ts';

async function listStatus(core: CoreV1Api, namespace: string): Promise<number> {
  try {
    await core.listNamespacedPod({ namespace });
    return 200;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('RBAC with a ServiceAccount token from TokenRequest', () => {
  it('denies listing pods until a Role and RoleBinding grant it', async () => {
    const namespace = await createNamespace('smoke-rbac');
    const token = await serviceAccountToken(namespace, 'reader');
    const asReader = kubeConfigWithToken(token).makeApiClient(CoreV1Api);

    expect(await listStatus(asReader, namespace)).toBe(403);

    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });

    // The authorizer reads RBAC objects from an informer: the grant takes effect within moments.
    await eventually(async () => (await listStatus(asReader, namespace)) === 200);
    // The grant is exactly list pods in this namespace: not another namespace, not another verb.
    expect(await listStatus(asReader, 'default')).toBe(403);
    await expect(asReader.readNamespacedPod({ namespace, name: 'absent' })).rejects.toMatchObject({
      code: 403,
    });
  });
});
