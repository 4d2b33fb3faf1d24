import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../logging/index.ts';
import { handleShutdownSignals } from './signals.ts';

describe('handleShutdownSignals', () => {
  const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
  afterEach(() => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      for (const l of process.listeners(signal)) {
        if (!(signal === 'SIGTERM' ? before.term : before.int).includes(l)) process.off(signal, l);
      }
    }
    vi.restoreAllMocks();
  });

  it('aborts on the first SIGTERM or SIGINT and exits at once on the second', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const shutdown = new AbortController();
    handleShutdownSignals(shutdown, silentLogger());

    process.emit('SIGTERM', 'SIGTERM');
    expect(shutdown.signal.aborted).toBe(true);
    expect((shutdown.signal.reason as Error).message).toBe('received SIGTERM');
    expect(exit).not.toHaveBeenCalled();

    process.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(1);
  });
});
