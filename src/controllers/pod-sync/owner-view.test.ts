import { describe, expect, it } from 'vitest';
import { ownerView } from './owner-view.ts';

const replicaSet = (name: string) => ({
  apiVersion: 'meta.k8s.io/v1',
  kind: 'PartialObjectMetadata',
  metadata: {
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    resourceVersion: '42',
    labels: { app: 'web', 'pod-template-hash': '5d8f7c6b9' },
    annotations: { 'deployment.kubernetes.io/revision': '7' },
    creationTimestamp: '2026-11-30T05:00:00Z',
    finalizers: ['example.com/keep'],
    ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'other', uid: 'uid-other' },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: 'uid-web',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
});

describe('ownerView', () => {
  it('keeps what a walk reads (identity, resourceVersion, the controller reference) and drops the rest', () => {
    expect(ownerView(replicaSet('web-1'))).toEqual({
      metadata: {
        name: 'web-1',
        namespace: 'shop',
        uid: 'uid-web-1',
        resourceVersion: '42',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true },
        ],
      },
    });
    expect(ownerView({ metadata: { name: 'bare', uid: 'u' } })).toEqual({
      metadata: { name: 'bare', uid: 'u' },
    });
  });

  it('is idempotent', () => {
    const once = ownerView(replicaSet('web-2'));
    expect(ownerView(once)).toEqual(once);
  });
});
