// A start over more pods than the configured heap holds: the operator must say so, with the numbers to
// fix it, and exit 1 before V8 aborts it ("Reached heap limit", exit 134 with a native stack and no
// cause). The pods here carry many owner references, which the pod cache keeps, so that a couple of
// thousand of them outgrow a 64 MiB old generation in seconds.
import { randomUUID } from 'node:crypto';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { inParallel } from '../informers/helpers.ts';

const PODS = 1_500;
/** Owner references per pod: about 200 bytes of heap each in the cached view, 40 KiB a pod. */
const REFERENCES = 200;
const OLD_SPACE_MIB = 64;

function heavyPod(i: number): V1Pod {
  return {
    metadata: {
      name: `heavy-${String(i).padStart(5, '0')}`,
      ownerReferences: Array.from({ length: REFERENCES }, (_, r) => ({
        apiVersion: 'example.com/v1',
        kind: 'Tenant',
        name: `tenant-${String(r).padStart(3, '0')}-of-pod-${String(i).padStart(5, '0')}`,
        uid: randomUUID(),
      })),
    },
    spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
  };
}

const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});

describe('a heap too small for the pods', () => {
  it(
    'logs a fatal line naming the pods, the old-generation limit and the memory limit to set, and exits 1 before V8 aborts',
    { timeout: 600_000 },
    async () => {
      const namespace = await createNamespace('heap');
      const core = adminKubeConfig().makeApiClient(CoreV1Api);
      const indexes = Array.from({ length: PODS }, (_, i) => i);
      await inParallel(indexes, 16, (i) => core.createNamespacedPod({ namespace, body: heavyPod(i) }));

      const op = startOperator(['--kubeconfig', inject('kubeconfig'), '--namespace', namespace], {
        NODE_OPTIONS: `--max-old-space-size=${String(OLD_SPACE_MIB)}`,
      });
      running.push(op);
      const code = await Promise.race([
        op.exited,
        new Promise<'running'>((resolve) => {
          setTimeout(() => {
            resolve('running');
          }, 240_000);
        }),
      ]);

      const fatal = op.lines.filter((l) => l.level === 60);
      for (const l of op.lines.filter((x) => (x.level ?? 0) >= 50)) console.log(JSON.stringify(l));
      const context = `exit ${String(code)}; last lines:\n${op.lines
        .slice(-5)
        .map((l) => JSON.stringify(l))
        .join('\n')}\nstderr:\n${op.stderr().slice(0, 2_000)}`;
      expect(op.stderr(), context).not.toContain('Reached heap limit');
      expect(code, context).toBe(1);
      expect(fatal, context).toHaveLength(1);
      const line = fatal[0] ?? {};
      expect(line.msg).toMatch(
        new RegExp(
          `^heap exhausted: \\d+ MiB live after a full GC, at the ${String(OLD_SPACE_MIB)} MiB old-generation limit, with `,
        ),
      );
      expect(line.msg).toMatch(/Set the container's memory limit to at least \d+ MiB/);
      expect(line).toMatchObject({ oldSpaceLimitMiB: OLD_SPACE_MIB });
      expect(line.neededMemoryLimitMiB).toBeGreaterThan(OLD_SPACE_MIB);
      // The fatal line is the operator's last word.
      expect(op.lines.at(-1)).toBe(line);
    },
  );
});
