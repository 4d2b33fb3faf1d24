import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** kwok's own stages file (vendored from kwok v0.8.0 kustomize/stage/, see its header). */
export const STAGES_FILE = fileURLToPath(new URL('./kwok/stages.yaml', import.meta.url));

/** The annotation kwok selects its nodes by (kwok's documented convention for fake nodes). */
export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/** Label that makes kwok's node-not-ready Stage report a node Ready=False ("stop a node"). */
export const NODE_NOT_READY_LABEL = 'node-not-ready.stage.kwok.x-k8s.io';

export interface FakeNodeSpec {
  name: string;
  zone: string;
  labels?: Record<string, string>;
}

/** The living cluster's nodes: one per zone, so zone spreading and zone-wide disruption are visible. */
export const DEFAULT_NODES: readonly FakeNodeSpec[] = [
  { name: 'kwok-node-1', zone: 'zone-a' },
  { name: 'kwok-node-2', zone: 'zone-b' },
  { name: 'kwok-node-3', zone: 'zone-c' },
];

/**
 * Flags for kwok v0.8.0 (pkg/kwok/cmd/root.go). It manages only nodes carrying FAKE_NODE_ANNOTATION,
 * keeps their Leases (node liveness for the node lifecycle controller) and plays the stages on them
 * and their pods. Set KWOK_WORKDIR too: kwok also loads <workdir>/kwok.yaml when it exists.
 */
export function kwokArgs(dir: string): string[] {
  return [
    `--kubeconfig=${join(dir, 'kwok.kubeconfig')}`,
    `--config=${STAGES_FILE}`,
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
    // 0 (kwok's default) keeps no Lease, and the node lifecycle controller would mark every node
    // Unknown after --node-monitor-grace-period; 40 s is the kubelet's default and kwok's docs' value.
    '--node-lease-duration-seconds=40',
    // Pod IPs: kwok's default 10.0.0.0/24 holds 254 and overlaps the Service range 10.0.0.0/24.
    '--cidr=10.244.0.0/16',
    '--node-ip=10.240.0.1',
  ];
}

/**
 * A Node as kwok's docs register one, without the `kwok.x-k8s.io/node=fake:NoSchedule` taint: with it,
 * every pod would need a toleration, and the workloads of tests and the demo are ordinary ones.
 * Allocatable is ample (20,000 pods each) so that scheduling never fails for lack of room: the test
 * files make about 8,000 hand-made pods on the shared cluster (three of 2,000, one of 1,500), which the
 * scheduler binds too; at 1,000 a node, later tests' pods stayed Pending ("3 Too many pods").
 */
export function fakeNode(spec: FakeNodeSpec): object {
  const resources = { cpu: '64', memory: '256Gi', pods: '20000', 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': spec.name,
        'topology.kubernetes.io/region': 'local',
        'topology.kubernetes.io/zone': spec.zone,
        ...spec.labels,
      },
    },
    spec: {},
    status: { allocatable: resources, capacity: resources },
  };
}

interface NodeStatusView {
  spec?: { taints?: { key: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Ready for pods: Ready=True, and the node lifecycle controller has lifted the
 * node.kubernetes.io/not-ready taint that TaintNodesByCondition puts on every new node.
 */
export function nodeSchedulable(node: NodeStatusView): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) ?? false;
  return ready && !tainted;
}
