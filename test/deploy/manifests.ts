// The objects of deploy/ as kubectl reads them (its own YAML parser, its file order), and copies of them
// moved to another namespace, so that tests can install the operator side by side on one control plane.
// deploy/ holds one file, generated from config/ (hack/manifests.ts), which is also the kustomize base.
import { join } from 'node:path';
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1PolicyRule,
  V1RoleBinding,
} from '@kubernetes/client-node';
import { kubectlOk } from '../helpers/kubectl.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const DEPLOY_DIR = join(REPO, 'deploy');
/** The sources of deploy/ and the kustomize base (`kubectl apply -k config/`). */
export const CONFIG_DIR = join(REPO, 'config');
/** The namespace deploy/ installs into. */
export const DEPLOY_NAMESPACE = 'pod-sync-system';
export const SERVICE_ACCOUNT = 'pod-sync-operator';

export type Manifest = KubernetesObject & Record<string, unknown>;

/** How a user points kubectl at the manifests. */
export type Source = ['-f', string] | ['-R', '-f', string] | ['-k', string];
export const APPLY_FILE: Source = ['-f', DEPLOY_DIR];
export const APPLY_RECURSIVE: Source = ['-R', '-f', DEPLOY_DIR];
export const APPLY_KUSTOMIZE: Source = ['-k', CONFIG_DIR];

/** Every object of deploy/ (or another source) in the order kubectl applies them. */
export async function deployObjects(source: Source = APPLY_FILE): Promise<Manifest[]> {
  const out = await kubectlOk(['create', '--dry-run=client', '-o', 'jsonpath={@}{"\\n"}', ...source]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Manifest);
}

/** The one object of that kind (and name); throws when there is not exactly one. */
export function only(objects: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind} ${name ?? ''} in deploy/, found ${found.length}`);
  return found[0] as Manifest;
}

export function deploymentOf(objects: readonly Manifest[]): V1Deployment {
  return only(objects, 'Deployment');
}

/** A rule of a ClusterRole or Role, by the role's name and the rule's position, for removal from a copy. */
export interface RuleRef {
  kind: 'ClusterRole' | 'Role';
  name: string;
  index: number;
}

/**
 * Every rule deploy/ grants the operator's ServiceAccount, with where it comes from: the rules of the
 * roles bound to it (not those of the metrics-reader ClusterRole, which is for Prometheus).
 */
export function grantedRules(objects: readonly Manifest[]): (RuleRef & { rule: V1PolicyRule })[] {
  const bound = new Set(
    objects
      .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
      .map((o) => o as unknown as V1ClusterRoleBinding)
      .filter((b) =>
        (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === SERVICE_ACCOUNT),
      )
      .map((b) => `${b.roleRef.kind}/${b.roleRef.name}`),
  );
  return objects
    .filter((o): o is Manifest & V1ClusterRole => o.kind === 'ClusterRole' || o.kind === 'Role')
    .filter((role) => bound.has(`${role.kind ?? ''}/${role.metadata?.name ?? ''}`))
    .flatMap((role) =>
      (role.rules ?? []).map((rule, index) => ({
        kind: role.kind as RuleRef['kind'],
        name: role.metadata?.name ?? '',
        index,
        rule,
      })),
    );
}

/**
 * deploy/ moved to `namespace`: namespaced objects, the Namespace and the bindings' subjects go there,
 * and cluster-scoped names (ClusterRole, ClusterRoleBinding) get the namespace as a suffix. `dropRule`
 * leaves one rule out.
 */
export function relocate(
  objects: readonly Manifest[],
  namespace: string,
  options: { dropRule?: RuleRef } = {},
): Manifest[] {
  const clusterName = (name: string | undefined): string => `${name ?? ''}-${namespace}`;
  return objects.map((original) => {
    const o = structuredClone(original);
    const metadata = (o.metadata ??= {});
    if (o.kind === 'Namespace') metadata.name = namespace;
    else if (metadata.namespace === DEPLOY_NAMESPACE) metadata.namespace = namespace;
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')
      metadata.name = clusterName(metadata.name);
    if (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') {
      const binding = o as unknown as V1ClusterRoleBinding | V1RoleBinding;
      if (binding.roleRef.kind === 'ClusterRole') binding.roleRef.name = clusterName(binding.roleRef.name);
      for (const subject of binding.subjects ?? []) {
        if (subject.namespace === DEPLOY_NAMESPACE) subject.namespace = namespace;
      }
    }
    const drop = options.dropRule;
    if (drop && drop.kind === o.kind && drop.name === original.metadata?.name) {
      (o as unknown as V1ClusterRole).rules?.splice(drop.index, 1);
    }
    return o;
  });
}

/** A List of the objects, for `kubectl apply -f -`. */
export function asList(objects: readonly Manifest[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}
