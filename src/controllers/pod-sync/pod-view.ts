import type { KubeObject, ObjectMeta } from '../../informers/index.ts';
import type { ContainerStatus, Pod } from './pod.ts';

/**
 * The pods informer's transform: keeps what a pod sync, the owner index and the pod metrics read
 * (identity, owner references, node, phase, condition types and statuses, and per container its
 * readiness, restart count and last termination) and drops the rest of the Pod: spec, labels,
 * annotations, managed fields, timestamps, messages. A cached pod shrinks from several KiB of parsed
 * JSON to a few hundred bytes, which is most of the operator's heap at 10,000 pods (bench/README.md).
 * A sync that starts reading another field must add it here. Idempotent, as transforms must be.
 */
export function podSyncView(obj: KubeObject): KubeObject {
  const pod = obj as Pod;
  const view: Pod = { metadata: metadataView(pod.metadata ?? {}) };
  if (pod.apiVersion !== undefined) view.apiVersion = pod.apiVersion;
  if (pod.kind !== undefined) view.kind = pod.kind;
  if (pod.spec?.nodeName !== undefined) view.spec = { nodeName: pod.spec.nodeName };
  const status = pod.status;
  if (status) {
    const kept: NonNullable<Pod['status']> = {};
    if (status.phase !== undefined) kept.phase = status.phase;
    if (status.conditions) kept.conditions = status.conditions.map(({ type, status }) => ({ type, status }));
    if (status.containerStatuses) kept.containerStatuses = status.containerStatuses.map(containerView);
    if (status.initContainerStatuses)
      kept.initContainerStatuses = status.initContainerStatuses.map(containerView);
    view.status = kept;
  }
  return view;
}

const METADATA_FIELDS = ['name', 'namespace', 'uid', 'resourceVersion', 'deletionTimestamp'] as const;

function metadataView(metadata: ObjectMeta): ObjectMeta {
  const kept: ObjectMeta = {};
  for (const field of METADATA_FIELDS)
    if (metadata[field] !== undefined) kept[field] = metadata[field] as never;
  if (metadata.ownerReferences) {
    kept.ownerReferences = metadata.ownerReferences.map(({ apiVersion, kind, name, uid, controller }) =>
      controller === undefined
        ? { apiVersion, kind, name, uid }
        : { apiVersion, kind, name, uid, controller },
    );
  }
  return kept;
}

function containerView(c: ContainerStatus): ContainerStatus {
  const kept: ContainerStatus = { name: c.name };
  if (c.ready !== undefined) kept.ready = c.ready;
  if (c.restartCount !== undefined) kept.restartCount = c.restartCount;
  const terminated = c.lastState?.terminated;
  if (terminated) {
    const last: { reason?: string; exitCode?: number } = {};
    if (terminated.reason !== undefined) last.reason = terminated.reason;
    if (terminated.exitCode !== undefined) last.exitCode = terminated.exitCode;
    kept.lastState = { terminated: last };
  }
  return kept;
}
