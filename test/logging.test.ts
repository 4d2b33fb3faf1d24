// The operator's log format as a person and a machine see it: pretty on a terminal, JSON on a pipe,
// and an explicit --log-format wins either way.
import { join } from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { isJsonLine, outputUntil } from './helpers/terminal.ts';

const main = join(import.meta.dirname, '..', 'src', 'main.ts');
const args = (extra: string[] = []) => [
  main,
  '--kubeconfig',
  inject('kubeconfig'),
  '--namespace',
  'default',
  '--metrics-bind-address=0',
  '--health-probe-bind-address=0',
  ...extra,
];
const started = /caches synced/;

describe('log format by where stdout goes', () => {
  it('is pretty on a terminal', async () => {
    const { lines } = await outputUntil(process.execPath, args(), { terminal: true, until: started });
    expect(lines.some(isJsonLine)).toBe(false);
    expect(lines.find((l) => l.includes('starting pod-sync-operator'))).toMatch(
      /INFO.*starting pod-sync-operator/,
    );
  });

  it('is JSON on a pipe', async () => {
    const { lines } = await outputUntil(process.execPath, args(), { terminal: false, until: started });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every(isJsonLine)).toBe(true);
  });

  it('follows an explicit --log-format on either', async () => {
    const json = await outputUntil(process.execPath, args(['--log-format=json']), {
      terminal: true,
      until: started,
    });
    expect(json.lines.every(isJsonLine)).toBe(true);
    const pretty = await outputUntil(process.execPath, args(['--log-format=pretty']), {
      terminal: false,
      until: started,
    });
    expect(pretty.lines.some(isJsonLine)).toBe(false);
    expect(pretty.text).toContain('starting pod-sync-operator');
  });
});
