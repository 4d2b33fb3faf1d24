/** A resource and its API group, as RBAC and --owner-resources name it: "replicasets.apps". */
export interface GroupResource {
  /** '' for the core group. */
  group: string;
  resource: string;
}

/** A lower-case resource name, then its group's DNS labels: "replicasets.apps", "widgets.example.com", "pods". */
export const GROUP_RESOURCE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** "replicasets.apps" -> { resource: 'replicasets', group: 'apps' }: the first dot splits, as kubectl's. */
export function parseGroupResource(text: string): GroupResource {
  const dot = text.indexOf('.');
  return dot < 0
    ? { group: '', resource: text }
    : { group: text.slice(dot + 1), resource: text.slice(0, dot) };
}

export function formatGroupResource({ group, resource }: GroupResource): string {
  return group ? `${resource}.${group}` : resource;
}
