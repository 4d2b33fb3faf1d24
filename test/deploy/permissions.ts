// What an identity may do, as the API server's authorizer says (SelfSubjectRulesReview), flattened to one
// string per (verb, resource, name) so that two rule lists compare however their rules are grouped.
import { AuthorizationV1Api, type V1PolicyRule, type V1ResourceRule } from '@kubernetes/client-node';
import { kubeConfigWithToken } from '../helpers/cluster.ts';
import { eventually } from '../../src/testing/index.ts';

/** "list pods", "get leases.coordination.k8s.io/pod-sync-operator", "create selfsubjectreviews.authentication.k8s.io". */
export function permissions(rules: readonly (V1PolicyRule | V1ResourceRule)[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs) {
          const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
          for (const name of names) {
            out.add(`${verb} ${resource}${group ? `.${group}` : ''}${name ? `/${name}` : ''}`);
          }
        }
      }
    }
  }
  return out;
}

export interface Review {
  resources: Set<string>;
  /** "get /healthz", ... */
  nonResources: Set<string>;
}

/** The rules the token's identity holds in `namespace`, cluster-wide grants included. */
export async function rulesReview(token: string, namespace: string): Promise<Review> {
  const api = kubeConfigWithToken(token).makeApiClient(AuthorizationV1Api);
  const review = await api.createSelfSubjectRulesReview({ body: { spec: { namespace } } });
  const status = review.status;
  if (!status || status.incomplete) throw new Error(`incomplete rules review: ${status?.evaluationError}`);
  const nonResources = new Set<string>();
  for (const rule of status.nonResourceRules) {
    for (const verb of rule.verbs)
      for (const url of rule.nonResourceURLs ?? []) nonResources.add(`${verb} ${url}`);
  }
  return { resources: permissions(status.resourceRules), nonResources };
}

/** `a` less what is in `b`. */
export function without(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a].filter((x) => !b.has(x)));
}

/**
 * Waits until the identity's permissions in `namespace`, less those every authenticated identity has
 * (`baseline`), are exactly `expected`: the authorizer reads RBAC objects from an informer, so a grant
 * takes effect moments after it is written.
 */
export async function awaitPermissions(
  token: string,
  namespace: string,
  baseline: ReadonlySet<string>,
  expected: ReadonlySet<string>,
): Promise<void> {
  let last: string[] = [];
  try {
    await eventually(async () => {
      last = [...without((await rulesReview(token, namespace)).resources, baseline)].sort();
      return last.join('\n') === [...expected].sort().join('\n');
    }, 20_000);
  } catch {
    throw new Error(
      `permissions in ${namespace} never became\n${[...expected].sort().join('\n')}\nlast:\n${last.join('\n')}`,
    );
  }
}
