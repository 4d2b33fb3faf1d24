import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../informers/index.ts';
import {
  controllerUid,
  NO_WORKLOAD,
  resolveWorkload,
  sameWorkload,
  type OwnerLookup,
  type OwnerLookups,
  type OwnerReference,
} from './workload.ts';

const ref = (apiVersion: string, kind: string, name: string, uid: string, controller = true) => ({
  apiVersion,
  kind,
  name,
  uid,
  controller,
});

function owned(
  name: string,
  owner?: OwnerReference,
  extra: OwnerReference[] = [],
  uid = `uid-${name}`,
): KubeObject {
  return { metadata: { name, namespace: 'ns', uid, ownerReferences: [...extra, ...(owner ? [owner] : [])] } };
}

/** Caches holding `objects` (by kind and name), watching every kind but `unwatched`. */
function caches(
  objects: Record<string, KubeObject>,
  unwatched: string[] = [],
): OwnerLookups & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup(r: OwnerReference, namespace: string): OwnerLookup {
      asked.push(`${r.kind}/${namespace}/${r.name}`);
      if (unwatched.includes(r.kind)) return { state: 'unwatched' };
      const owner = objects[`${r.kind}/${r.name}`];
      if (!owner) return { state: 'missing', reason: 'not in the cache', settling: false };
      if (owner.metadata?.uid !== r.uid) return { state: 'missing', reason: 'another uid', settling: false };
      return { state: 'cached', owner };
    },
  };
}

describe('resolveWorkload', () => {
  it('walks any kinds to any depth: Pod -> ReplicaSet -> Widget -> Gadget', () => {
    const gadget = owned('top');
    const widget = owned('middle', ref('b.example.com/v1', 'Gadget', 'top', 'uid-top'));
    const rs = owned('rs', ref('a.example.com/v1', 'Widget', 'middle', 'uid-middle'));
    const pod = owned('p', ref('apps/v1', 'ReplicaSet', 'rs', 'uid-rs'));
    const c = caches({ 'Gadget/top': gadget, 'Widget/middle': widget, 'ReplicaSet/rs': rs });
    expect(resolveWorkload(pod, c)).toEqual({ workload: { kind: 'Gadget', name: 'top' } });
    expect(c.asked).toEqual(['ReplicaSet/ns/rs', 'Widget/ns/middle', 'Gadget/ns/top']);
  });

  it('follows only the reference marked controller; a pod without one has no workload', () => {
    const sts = owned('db');
    const pod = owned('db-0', ref('apps/v1', 'StatefulSet', 'db', 'uid-db'), [
      ref('apps/v1', 'ReplicaSet', 'other', 'uid-other', false),
    ]);
    expect(resolveWorkload(pod, caches({ 'StatefulSet/db': sts })).workload).toEqual({
      kind: 'StatefulSet',
      name: 'db',
    });
    const noController = owned('solo', undefined, [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' },
    ]);
    expect(resolveWorkload(noController, caches({})).workload).toEqual(NO_WORKLOAD);
    expect(resolveWorkload(owned('bare'), caches({})).workload).toEqual(NO_WORKLOAD);
  });

  it('takes an unwatched kind as the top without looking further', () => {
    const pod = owned('p', ref('apps/v1', 'ReplicaSet', 'rs', 'uid-rs'));
    expect(resolveWorkload(pod, caches({}, ['ReplicaSet'])).workload).toEqual({
      kind: 'ReplicaSet',
      name: 'rs',
    });
  });

  it('stops at an owner missing from the cache, or cached under another uid, and says which', () => {
    const pod = owned('p', ref('apps/v1', 'ReplicaSet', 'rs', 'uid-rs'));
    expect(resolveWorkload(pod, caches({})).workload).toEqual({
      kind: 'ReplicaSet',
      name: 'rs',
      unresolved: {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'rs',
        uid: 'uid-rs',
        reason: 'not in the cache',
        settling: false,
      },
    });
    // The ReplicaSet was made again: same name, another uid.
    const remade = owned('rs', ref('apps/v1', 'Deployment', 'web', 'uid-web'), [], 'uid-new');
    expect(resolveWorkload(pod, caches({ 'ReplicaSet/rs': remade })).workload.unresolved?.reason).toBe(
      'another uid',
    );
    // Resolved so far: the ReplicaSet, whose Deployment is missing.
    const rs = owned('rs', ref('apps/v1', 'Deployment', 'web', 'uid-web'));
    expect(resolveWorkload(pod, caches({ 'ReplicaSet/rs': rs })).workload).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      unresolved: { kind: 'Deployment', uid: 'uid-web' },
    });
  });

  it('ends a cycle at the last owner before the repeat, and names the owners in it', () => {
    const a = owned('a', ref('x.example.com/v1', 'Gadget', 'b', 'uid-b'));
    const b = owned('b', ref('x.example.com/v1', 'Widget', 'a', 'uid-a'));
    const pod = owned('p', ref('x.example.com/v1', 'Widget', 'a', 'uid-a'));
    const c = caches({ 'Widget/a': a, 'Gadget/b': b });
    const { workload, cycle } = resolveWorkload(pod, c);
    expect(workload).toEqual({ kind: 'Gadget', name: 'b' });
    expect(cycle?.map((r) => r.name)).toEqual(['a', 'b']);
    expect(c.asked).toHaveLength(2);
    // An owner that names itself.
    const self = owned('s', ref('x.example.com/v1', 'Widget', 's', 'uid-s'));
    const selfPod = owned('q', ref('x.example.com/v1', 'Widget', 's', 'uid-s'));
    expect(resolveWorkload(selfPod, caches({ 'Widget/s': self }))).toMatchObject({
      workload: { kind: 'Widget', name: 's' },
      cycle: [{ name: 's' }],
    });
  });
});

describe('controllerUid and sameWorkload', () => {
  it('index an owner by its controller only, and compare tops with their resolution', () => {
    expect(
      controllerUid(
        owned('rs', ref('apps/v1', 'Deployment', 'd', 'u1'), [ref('v1', 'Node', 'n', 'u2', false)]),
      ),
    ).toEqual(['u1']);
    expect(controllerUid(owned('bare'))).toEqual([]);
    const unresolved = {
      kind: 'ReplicaSet',
      name: 'rs',
      unresolved: {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'rs',
        uid: 'u',
        reason: '',
        settling: false,
      },
    };
    expect(sameWorkload(unresolved, { kind: 'ReplicaSet', name: 'rs' })).toBe(false);
    expect(
      sameWorkload(unresolved, { ...unresolved, unresolved: { ...unresolved.unresolved, reason: 'other' } }),
    ).toBe(true);
  });
});
