// The Deployment's pod template against the API server's PodSecurity admission at the `restricted`
// level: no controller manager makes pods from the Deployment here, so the test makes one from its template.
import { CoreV1Api, type V1Pod, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { DEPLOY_NAMESPACE, deployObjects, deploymentOf, only } from './manifests.ts';

async function restrictedNamespace(): Promise<string> {
  const namespace = await createNamespace('pss');
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .patchNamespace({
      name: namespace,
      body: [
        { op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' },
        { op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce-version', value: 'latest' },
      ],
    });
  return namespace;
}

/** A Pod as the ReplicaSet controller would make it from the template. */
function podFrom(template: V1PodTemplateSpec, name: string): V1Pod {
  return { metadata: { name, labels: template.metadata?.labels }, spec: structuredClone(template.spec) };
}

async function createStatus(namespace: string, pod: V1Pod): Promise<{ code: number; message: string }> {
  try {
    await adminKubeConfig().makeApiClient(CoreV1Api).createNamespacedPod({ namespace, body: pod });
    return { code: 201, message: '' };
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string };
    return { code: e.code ?? -1, message: status.message ?? '' };
  }
}

describe('the pod template and the restricted Pod Security Standard', () => {
  let template: V1PodTemplateSpec;
  let namespace = '';
  beforeAll(async () => {
    const objects = await deployObjects();
    template = deploymentOf(objects).spec?.template ?? {};
    namespace = await restrictedNamespace();
  });

  it("is admitted in a namespace that enforces restricted, as in the operator's own namespace", async () => {
    expect(await createStatus(namespace, podFrom(template, 'operator'))).toEqual({ code: 201, message: '' });
    // deploy/ enforces it on its namespace too.
    const labels = only(await deployObjects(), 'Namespace', DEPLOY_NAMESPACE).metadata?.labels;
    expect(labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  // Each hardening setting, taken away, gets the pod refused: the admission really judges these fields.
  const weakened: [string, (pod: V1Pod) => void][] = [
    [
      'allowPrivilegeEscalation',
      (p) => ((container(p).securityContext ??= {}).allowPrivilegeEscalation = true),
    ],
    ['capabilities', (p) => delete (container(p).securityContext ??= {}).capabilities],
    [
      'runAsNonRoot',
      (p) => {
        delete (p.spec?.securityContext ?? {}).runAsNonRoot;
        delete (container(p).securityContext ?? {}).runAsNonRoot;
        if (p.spec?.securityContext) p.spec.securityContext.runAsUser = 0;
      },
    ],
    [
      'seccompProfile',
      (p) => {
        delete (p.spec?.securityContext ?? {}).seccompProfile;
        delete (container(p).securityContext ?? {}).seccompProfile;
      },
    ],
  ];
  it.each(weakened)('is refused without its %s setting', async (field, weaken) => {
    const pod = podFrom(template, `weak-${field.toLowerCase()}`);
    weaken(pod);
    const { code, message } = await createStatus(namespace, pod);
    expect(code).toBe(403);
    expect(message).toContain('violates PodSecurity "restricted:latest"');
    expect(message).toContain(field);
  });
});

function container(pod: V1Pod) {
  const first = pod.spec?.containers[0];
  if (!first) throw new Error('no container');
  return first;
}
