// The Deployment's pod template against the API server's PodSecurity admission at the `restricted`
// level, as it meets it: the ReplicaSet controller makes the pod from the template, and a refusal shows
// in the ReplicaSet's ReplicaFailure condition.
import { AppsV1Api, CoreV1Api, type V1Pod, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { DEPLOY_NAMESPACE, SERVICE_ACCOUNT, deployObjects, deploymentOf, only } from './manifests.ts';
import { eventually } from '../../src/testing/index.ts';

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

/** A Pod with the template's spec, for the weakening functions to edit. */
function podFrom(template: V1PodTemplateSpec, name: string): V1Pod {
  return { metadata: { name, labels: template.metadata?.labels }, spec: structuredClone(template.spec) };
}

/**
 * A Deployment of one replica with the pod's spec: whether the ReplicaSet controller could make its
 * pod, and if not, the refusal it reports. Each variant has a label of its own, so that the
 * Deployments' selectors do not overlap.
 */
async function outcome(namespace: string, pod: V1Pod): Promise<{ admitted: boolean; message: string }> {
  const name = pod.metadata?.name ?? '';
  const labels = { ...pod.metadata?.labels, variant: name };
  const admin = adminKubeConfig();
  const apps = admin.makeApiClient(AppsV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: pod.spec },
      },
    },
  });
  let result = { admitted: false, message: '' };
  await eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `variant=${name}` });
      if (pods.items.length > 0) result = { admitted: true, message: '' };
      const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `variant=${name}` });
      const failure = sets.items
        .flatMap((rs) => rs.status?.conditions ?? [])
        .find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (failure) result = { admitted: false, message: failure.message ?? '' };
      return result.admitted || result.message !== '';
    },
    30_000,
    200,
  );
  return result;
}

describe('the pod template and the restricted Pod Security Standard', () => {
  let template: V1PodTemplateSpec;
  let namespace = '';
  beforeAll(async () => {
    const objects = await deployObjects();
    template = deploymentOf(objects).spec?.template ?? {};
    namespace = await restrictedNamespace();
    // The template runs as this ServiceAccount; the ServiceAccount admission plugin wants it to exist.
    await adminKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccount({ namespace, body: { metadata: { name: SERVICE_ACCOUNT } } });
  });

  it("is admitted in a namespace that enforces restricted, as in the operator's own namespace", async () => {
    expect(await outcome(namespace, podFrom(template, 'operator'))).toEqual({ admitted: true, message: '' });
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
    const { admitted, message } = await outcome(namespace, pod);
    expect(admitted).toBe(false);
    expect(message).toContain('violates PodSecurity "restricted:latest"');
    expect(message).toContain(field);
  });
});

function container(pod: V1Pod) {
  const first = pod.spec?.containers[0];
  if (!first) throw new Error('no container');
  return first;
}
