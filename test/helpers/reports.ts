import { TRANSITION_TYPES } from '../../src/controllers/pod-sync/index.ts';
import { type LogLine } from '../../src/testing/index.ts';
// What the operator reported about each pod, read back from its log lines and its /metrics, so that
// tests compare it with what the API server holds.

/** The workload a report line carries; `unresolved` when the walk stopped at an owner not in the cache. */
export interface ReportedWorkload {
  kind: string;
  name: string;
  unresolved?: { kind: string; name: string; uid: string };
}

/** The last state the operator reported for one pod key; absent after a `deleted` line. */
export interface ReportedPod {
  uid: string;
  phase: string;
  ready: boolean;
  workload: ReportedWorkload;
}

/** The transitions after which a pod still exists: every one but `deleted`. */
const STATE_EVENTS = new Set<string>(TRANSITION_TYPES.filter((type) => type !== 'deleted'));

export function workloadOf(line: LogLine): ReportedWorkload {
  const workload: ReportedWorkload = { kind: String(line.workloadKind), name: String(line.workloadName) };
  const { unresolvedOwnerKind: kind, unresolvedOwnerName: name, unresolvedOwnerUid: uid } = line;
  if (typeof kind === 'string' && typeof name === 'string' && typeof uid === 'string') {
    workload.unresolved = { kind, name, uid };
  }
  return workload;
}

/** Folds the report lines (transitions and workload changes) into the last state per pod key. */
export function lastReported(lines: readonly LogLine[]): Map<string, ReportedPod> {
  const pods = new Map<string, ReportedPod>();
  for (const line of lines) {
    const key = typeof line.key === 'string' ? line.key : undefined;
    if (!key || typeof line.event !== 'string') continue;
    if (line.event === 'deleted') {
      pods.delete(key);
    } else if (STATE_EVENTS.has(line.event) || line.event === 'workload_changed') {
      pods.set(key, {
        uid: String(line.uid),
        phase: String(line.phase),
        ready: line.ready === true,
        workload: workloadOf(line),
      });
    }
  }
  return pods;
}
