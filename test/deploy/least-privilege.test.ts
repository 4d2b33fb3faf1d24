// Every rule deploy/ grants is needed, and its absence shows: install a copy of deploy/ without one rule
// (in a namespace of its own), run the operator as that copy's ServiceAccount, and expect an error line
// naming the refused verb and resource. Without pods, /readyz stays 503 while that cache cannot fill;
// without an owner kind, a pod whose chain runs through it reports that kind as its workload, one
// warning names the RBAC rule it needs, and the replica is ready (an owner cache never holds readiness);
// without a review rule, a scrape of the secure /metrics is answered 500.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace, serviceAccountToken } from '../helpers/cluster.ts';
import { inClusterAs } from '../helpers/in-cluster.ts';
import { kubectlOk } from '../helpers/kubectl.ts';
import { adminToken, scrapeMetrics } from '../helpers/metrics.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { chainThrough } from '../helpers/owners.ts';
import { containerProcess, localArgs } from './container.ts';
import {
  SERVICE_ACCOUNT,
  asList,
  deployObjects,
  deploymentOf,
  grantedRules,
  relocate,
  type Manifest,
  type RuleRef,
} from './manifests.ts';
import { awaitPermissions, permissions, rulesReview } from './permissions.ts';
import { eventually, type LogLine } from '../../src/testing/index.ts';

/** The test control plane's admin user (hack/cluster/control-plane.ts), whose token scrapes here. */
const ADMIN_USER = 'pod-sync-admin';
const running: OperatorProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});

/** What the operator must say when a rule is missing: the line, and the server's words in it. */
interface Expectation {
  msg: string;
  refused: RegExp;
  /** The cache /readyz names as not synced: the pods'. */
  unsynced?: string;
  /** An owner kind's resource ("replicasets.apps"): a top with no lookup, and ready. */
  owner?: string;
  /** The answer to a scrape with a valid token, when the rule is about the reviews. */
  scrape?: { status: number; body: string };
}

function expectationFor(rule: { apiGroups?: string[]; resources?: string[]; verbs: string[] }): Expectation {
  const [group = ''] = rule.apiGroups ?? [];
  const [resource = ''] = rule.resources ?? [];
  if (resource === 'tokenreviews' || resource === 'subjectaccessreviews') {
    // Found out at the first scrape: the metrics filter cannot ask the API server, so it answers 500.
    const msg =
      resource === 'tokenreviews' ? 'Authentication failed' : `Authorization for user ${ADMIN_USER} failed`;
    return {
      msg,
      refused: new RegExp(
        `cannot create resource "${resource}" in API group "${group}" at the cluster scope`,
      ),
      scrape: { status: 500, body: `${msg}\n` },
    };
  }
  if (resource === 'leases') {
    // Without create, the first candidate cannot make the Lease; without get, no one can read it.
    const verb = rule.verbs.includes('create') ? 'create' : 'get';
    return {
      msg: verb === 'create' ? 'error initially creating lease' : 'error retrieving lease',
      refused: new RegExp(
        `cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace`,
      ),
    };
  }
  const qualified = group ? `${resource}.${group}` : resource;
  return {
    msg: 'list failed: access denied',
    refused: new RegExp(`cannot list resource "${resource}" in API group "${group}" at the cluster scope`),
    ...(resource === 'pods' ? { unsynced: qualified } : { owner: qualified }),
  };
}

function describeRule(
  r: RuleRef & { rule: { apiGroups?: string[]; resources?: string[]; verbs: string[] } },
) {
  const [group = ''] = r.rule.apiGroups ?? [];
  const resources = (r.rule.resources ?? []).join(',');
  return `${r.kind} ${r.name} rule ${r.index}: ${r.rule.verbs.join(',')} ${resources}${group ? `.${group}` : ''}`;
}

describe('without any one of its rules, the operator fails visibly', async () => {
  // Read at collection time, so that each rule gets a test of its own.
  const objects: Manifest[] = await deployObjects();
  const rules = grantedRules(objects);
  let baseline = new Set<string>();
  beforeAll(async () => {
    const scratch = await createNamespace('lp-baseline');
    baseline = (await rulesReview(await serviceAccountToken(scratch, 'nobody'), scratch)).resources;
  });

  it('has a rule for each thing the operator reads or writes', () => {
    expect(rules.map(describeRule)).toEqual([
      'ClusterRole pod-sync-operator rule 0: get,list,watch pods',
      'ClusterRole pod-sync-operator rule 1: get,list,watch replicasets.apps',
      'ClusterRole pod-sync-operator rule 2: get,list,watch deployments.apps',
      'ClusterRole pod-sync-operator rule 3: get,list,watch statefulsets.apps',
      'ClusterRole pod-sync-operator rule 4: get,list,watch daemonsets.apps',
      'ClusterRole pod-sync-operator rule 5: get,list,watch jobs.batch',
      'ClusterRole pod-sync-operator rule 6: get,list,watch cronjobs.batch',
      'ClusterRole pod-sync-operator rule 7: get,list,watch replicationcontrollers',
      'Role pod-sync-operator-leader-election rule 0: create leases.coordination.k8s.io',
      'Role pod-sync-operator-leader-election rule 1: get,update leases.coordination.k8s.io',
      'ClusterRole pod-sync-operator-metrics-auth rule 0: create tokenreviews.authentication.k8s.io',
      'ClusterRole pod-sync-operator-metrics-auth rule 1: create subjectaccessreviews.authorization.k8s.io',
    ]);
  });

  it.each(rules.map((r) => [describeRule(r), r] as const))('%s', async (_name, dropped) => {
    const namespace = await createNamespace('lp');
    const copy = relocate(objects, namespace, { dropRule: dropped });
    await kubectlOk(['apply', '-f', '-'], { input: asList(copy) });

    // Wait until the authorizer holds exactly the remaining grants, so that what follows is not a
    // moment of RBAC propagation.
    const inCluster = await inClusterAs(namespace, SERVICE_ACCOUNT);
    const token = await serviceAccountToken(namespace, SERVICE_ACCOUNT);
    const remaining = grantedRules(copy).map((r) => r.rule);
    await awaitPermissions(token, namespace, baseline, permissions(remaining));

    const expected = expectationFor(dropped.rule);
    // A pod whose controller chain runs through the refused kind, so that its informer starts (in a
    // namespace of its own: the operator's enforces the restricted Pod Security Standard).
    const chainNamespace = expected.owner ? await createNamespace('lp-chain') : '';
    const chain = expected.owner
      ? await chainThrough(adminKubeConfig(), chainNamespace, expected.owner)
      : undefined;
    const { args, env } = containerProcess(deploymentOf(copy), { name: `lp-${namespace}`, namespace });
    const op = startOperator(localArgs([...args, ...inCluster.args]), { ...env, ...inCluster.env });
    running.push(op);

    if (expected.scrape) {
      // The replica runs and leads; only a scrape finds the missing grant.
      await op.waitFor((l) => l.msg === 'became the leader: starting workers', 60_000);
      const { metrics } = await op.addresses();
      const scrape = await scrapeMetrics(metrics, { token: adminToken() });
      expect({ status: scrape.status, body: scrape.body }).toEqual(expected.scrape);
    }
    const failure = await op.waitFor((l) => l.msg === expected.msg, 60_000);
    expect(failure.level).toBe(50);
    expect(errorText(failure)).toMatch(expected.refused);
    const { probes } = await op.addresses();
    if (expected.scrape) {
      expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    } else if (chain && expected.owner) {
      // The kind is the top of the pod's chain, with no lookup; one warning names the rule to grant.
      const report = await op.waitFor(
        (l) =>
          (l.event === 'added' || l.event === 'workload_changed') &&
          l.namespace === chainNamespace &&
          l.name === chain.pod &&
          l.workloadKind === chain.kind &&
          l.unresolvedOwnerKind === undefined,
        60_000,
      );
      expect(report.workloadKind).toBe(chain.kind);
      const warned = op.lines.filter((l) => l.level === 40 && l.resource === expected.owner);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ reason: 'refused' });
      expect(String(warned[0]?.fix)).toMatch(/grant get, list, watch on resource/);
      await op.waitFor((l) => l.msg === 'caches synced', 60_000);
      expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    } else if (expected.unsynced) {
      // The other caches fill (the pod list can take a while on a busy machine); this one never does.
      const unsynced = expected.unsynced;
      let last = '';
      await eventually(async () => {
        const ready = await fetch(`${probes}/readyz`);
        expect(ready.status).toBe(503);
        last = await ready.text();
        return last.trim() === `[-]caches: caches not synced: ${unsynced}`;
      }, 60_000).catch(() => {
        throw new Error(`/readyz never named only ${unsynced}; last: ${last}`);
      });
      expect(op.lines.some((l) => l.msg === 'caches synced')).toBe(false);
    } else {
      // The caches fill and the replica is ready to take over, but it never leads.
      await op.waitFor((l) => l.msg === 'caches synced', 60_000);
      expect((await fetch(`${probes}/readyz`)).status).toBe(200);
      // A second attempt (2 to 4.4 s later) is refused the same way.
      await waitForCount(op, (l) => l.msg === expected.msg, 2, 30_000);
      expect(op.lines.some((l) => l.msg === 'became the leader: starting workers')).toBe(false);
    }
    // Only the missing permission was refused: no error line names another one.
    const errors = op.lines.filter((l) => (l.level ?? 0) >= 50);
    for (const line of errors) expect(errorText(line)).toMatch(expected.refused);
  });
});

function errorText(line: LogLine): string {
  const err = line.err;
  if (typeof err === 'string') return err;
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

async function waitForCount(
  op: OperatorProcess,
  match: (l: LogLine) => boolean,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (op.lines.filter(match).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} matching lines within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
