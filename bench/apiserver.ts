// Requests a contender sent, counted by the API server two ways:
// - apiserver_request_total, scraped before the contender starts and after it exits. Its labels are
//   verb, group, version, resource, subresource, scope, component, code and dry_run: there is no user
//   agent label, so the harness runs contenders one at a time and counts the read verbs (GET, LIST,
//   WATCH) it never sends itself while a contender runs.
// - the audit log, which does name the user agent: the policy below records read requests (Metadata
//   level, one line per stage), so a contender's requests are the distinct audit IDs with its user
//   agent between its start and its exit.
// The audit log also records the harness's pod status writes: the time the API server completed each
// update's response (stageTimestamp of ResponseComplete) is where a burst update's latency starts, on
// the server's clock (the same machine's), unaffected by how busy the harness's own event loop is.
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request } from 'undici';
import type { ApiServerAccess } from './workload.ts';

/** Reads, and pod status patches; other writes and the API server's own loopback traffic are left out. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:apiserver"]
  - level: None
    nonResourceURLs: ["*"]
  - level: Metadata
    verbs: ["patch"]
    resources: [{ group: "", resources: ["pods/status"] }]
  - level: None
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  - level: Metadata
`;

/** kube-apiserver flags that turn the audit log on, with the policy written into `dir`. */
export function auditArgs(dir: string): { args: string[]; logPath: string } {
  const policy = join(dir, 'audit-policy.yaml');
  const logPath = join(dir, 'audit.log');
  writeFileSync(policy, AUDIT_POLICY);
  return {
    args: [
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${logPath}`,
      '--audit-log-maxsize=0',
      '--audit-log-format=json',
    ],
    logPath,
  };
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface AuditCount {
  /** Distinct requests (audit IDs) by user agent, then verb. */
  byUserAgent: Record<string, Record<string, number>>;
}

interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb?: string;
  userAgent?: string;
  stageTimestamp?: string;
  objectRef?: { resource?: string; subresource?: string; name?: string };
}

/**
 * The audit events logged after byte `from`, read in chunks: at 100,000 pods the log holds several
 * hundred MB, more than one string may.
 */
function auditEvents(logPath: string, from: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  const fd = openSync(logPath, 'r');
  const chunk = Buffer.alloc(16 * 2 ** 20);
  let position = from;
  let rest = '';
  const decoder = new StringDecoder('utf8');
  const parse = (line: string): void => {
    if (!line) return;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // A line cut by a write in progress.
    }
  };
  try {
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      const lines = (rest + decoder.write(chunk.subarray(0, read))).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) parse(line);
    }
  } finally {
    closeSync(fd);
  }
  parse(rest);
  return events;
}

/** Epoch ms of an RFC 3339 timestamp with microseconds, keeping the sub-millisecond part. */
export function parseMicroTime(value: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!match?.[1] || !match[3]) return Date.parse(value);
  const fraction = match[2] ? Number(`0.${match[2]}`) * 1000 : 0;
  return Date.parse(`${match[1]}${match[3]}`) + fraction;
}

/** When the API server completed its response to each pod status patch logged after byte `from`, by pod name. */
export function statusPatchResponses(logPath: string, from: number): Map<string, number> {
  const done = new Map<string, number>();
  for (const event of auditEvents(logPath, from)) {
    const ref = event.objectRef;
    if (
      event.stage !== 'ResponseComplete' ||
      event.verb !== 'patch' ||
      ref?.resource !== 'pods' ||
      ref.subresource !== 'status'
    )
      continue;
    if (ref.name && event.stageTimestamp) done.set(ref.name, parseMicroTime(event.stageTimestamp));
  }
  return done;
}

/** Counts the requests in the audit log written after byte `from`. */
export function countAudit(logPath: string, from: number): AuditCount {
  const seen = new Set<string>();
  const byUserAgent: Record<string, Record<string, number>> = {};
  for (const event of auditEvents(logPath, from)) {
    if (!event.auditID || seen.has(event.auditID)) continue;
    seen.add(event.auditID);
    const agent = event.userAgent ?? '(none)';
    const verbs = (byUserAgent[agent] ??= {});
    const verb = (event.verb ?? '?').toUpperCase();
    verbs[verb] = (verbs[verb] ?? 0) + 1;
  }
  return { byUserAgent };
}

/** apiserver_request_total by "VERB resource" (subresource appended after a slash). */
export type RequestTotals = Map<string, number>;

export class ApiServerMetrics {
  readonly #access: ApiServerAccess;
  readonly #agent: Agent;

  constructor(access: ApiServerAccess) {
    this.#access = access;
    this.#agent = new Agent({ connect: { ca: access.ca } });
  }

  async requestTotals(): Promise<RequestTotals> {
    const response = await request(`${this.#access.server}/metrics`, {
      dispatcher: this.#agent,
      headers: { authorization: `Bearer ${this.#access.token}` },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET /metrics: HTTP ${response.statusCode}`);
    const totals: RequestTotals = new Map();
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const close = line.lastIndexOf('}');
      const labels: Record<string, string> = {};
      for (const m of line.slice(line.indexOf('{') + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        if (m[1]) labels[m[1]] = m[2] ?? '';
      }
      const value = Number(line.slice(close + 1).trim());
      const resource = labels.subresource
        ? `${labels.resource}/${labels.subresource}`
        : (labels.resource ?? '');
      const key = `${labels.verb} ${resource}`;
      totals.set(key, (totals.get(key) ?? 0) + value);
    }
    return totals;
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/**
 * Read requests (GET, LIST, WATCH) of pods, ReplicaSets and Jobs between two scrapes, by "VERB
 * resource". Other resources are left out: the API server's own informers watch them, and their
 * watches end (and are counted: a watch is counted when it ends) at any time.
 */
export function readRequestsBetween(before: RequestTotals, after: RequestTotals): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!/^(GET|LIST|WATCH) (pods|replicasets|jobs)$/.test(key)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) diff[key] = delta;
  }
  return diff;
}
