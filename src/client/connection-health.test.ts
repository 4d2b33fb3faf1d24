import { describe, expect, it, vi } from 'vitest';
import { FakeClock, captureLogs } from '../testing/index.ts';
import { ConnectionHealth, type WatchedSocket } from './connection-health.ts';
import { HTTP2_PING_TIMEOUT_MS, HTTP2_READ_IDLE_TIMEOUT_MS } from './defaults.ts';

class FakeSocket implements WatchedSocket {
  readonly alpnProtocol: string | false | undefined;
  bytesRead = 0;
  destroyed = false;
  destroyedWith: Error | undefined;

  constructor(alpnProtocol: string | false | undefined = 'h2') {
    this.alpnProtocol = alpnProtocol;
  }

  destroy(error?: Error): void {
    this.destroyed = true;
    this.destroyedWith = error;
  }
}

const SERVER = 'https://10.0.0.1:6443';
const LIMIT_MS = HTTP2_READ_IDLE_TIMEOUT_MS + HTTP2_PING_TIMEOUT_MS;

function setup(health = { readIdleMs: HTTP2_READ_IDLE_TIMEOUT_MS, pingTimeoutMs: HTTP2_PING_TIMEOUT_MS }) {
  const clock = new FakeClock(1_000_000);
  const { logger, lines } = captureLogs();
  const watchdog = new ConnectionHealth({ server: SERVER, clock, log: logger, health });
  return { clock, lines, watchdog };
}

describe('ConnectionHealth', () => {
  it("closes an h2 connection that read nothing for client-go's 30 + 15 s, within one sample after", () => {
    const { clock, lines, watchdog } = setup();
    const socket = new FakeSocket();
    socket.bytesRead = 500;
    watchdog.track(socket);

    clock.step(LIMIT_MS - 1);
    expect(socket.destroyed).toBe(false);
    clock.step(1 + HTTP2_PING_TIMEOUT_MS / 3);
    expect(socket.destroyed).toBe(true);
    expect(socket.destroyedWith?.message).toBe(
      `HTTP/2 connection to ${SERVER} was unresponsive (no frame for 45 s)`,
    );
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: socket.destroyedWith?.message, server: SERVER }),
    ]);
  });

  it('keeps a connection whose PING acks arrive, however long its streams stay quiet', () => {
    const { clock, watchdog } = setup();
    const socket = new FakeSocket();
    watchdog.track(socket);
    for (let t = 0; t < 3_600_000; t += HTTP2_READ_IDLE_TIMEOUT_MS) {
      clock.step(HTTP2_READ_IDLE_TIMEOUT_MS);
      socket.bytesRead += 17;
    }
    expect(socket.destroyed).toBe(false);
  });

  it('counts the silence from the last frame read, not from when watching began', () => {
    const { clock, watchdog } = setup();
    const socket = new FakeSocket();
    watchdog.track(socket);
    clock.step(40_000);
    socket.bytesRead = 9;
    clock.step(LIMIT_MS - 1);
    expect(socket.destroyed).toBe(false);
    clock.step(HTTP2_PING_TIMEOUT_MS / 3 + 1);
    expect(socket.destroyed).toBe(true);
  });

  it('times each connection on its own', () => {
    const { clock, watchdog } = setup();
    const dead = new FakeSocket();
    const alive = new FakeSocket();
    watchdog.track(dead);
    watchdog.track(alive);
    for (let t = 0; t < 120_000; t += 10_000) {
      clock.step(10_000);
      alive.bytesRead += 17;
    }
    expect(dead.destroyed).toBe(true);
    expect(alive.destroyed).toBe(false);
  });

  it('leaves HTTP/1.1 and plain sockets alone: each carries one request, not every one', () => {
    const { clock, watchdog } = setup();
    const sockets = [
      new FakeSocket('http/1.1'),
      new FakeSocket(false),
      Object.assign(new FakeSocket(), { alpnProtocol: undefined }),
    ];
    for (const socket of sockets) watchdog.track(socket);
    expect(clock.pendingTimers()).toBe(0);
    clock.step(10 * LIMIT_MS);
    expect(sockets.map((s) => s.destroyed)).toEqual([false, false, false]);
  });

  it('runs an unref timer only while an h2 connection is open', () => {
    const { clock, watchdog } = setup();
    const setTimeout = vi.spyOn(clock, 'setTimeout');
    const socket = new FakeSocket();
    watchdog.track(socket);
    expect(setTimeout).toHaveBeenCalledWith(expect.any(Function), HTTP2_PING_TIMEOUT_MS / 3, {
      unref: true,
    });
    clock.step(HTTP2_PING_TIMEOUT_MS);
    expect(clock.pendingTimers()).toBe(1);

    socket.destroyed = true;
    clock.step(HTTP2_PING_TIMEOUT_MS / 3);
    expect(clock.pendingTimers()).toBe(0);

    const next = new FakeSocket();
    watchdog.track(next);
    clock.step(LIMIT_MS + HTTP2_PING_TIMEOUT_MS / 3);
    expect(next.destroyed).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops watching for good on stop()', () => {
    const { clock, watchdog } = setup();
    const socket = new FakeSocket();
    watchdog.track(socket);
    watchdog.stop();
    expect(clock.pendingTimers()).toBe(0);
    watchdog.track(new FakeSocket());
    clock.step(10 * LIMIT_MS);
    expect(socket.destroyed).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('takes small timings for tests: 300 + 300 ms', () => {
    const { clock, watchdog } = setup({ readIdleMs: 300, pingTimeoutMs: 300 });
    const socket = new FakeSocket();
    watchdog.track(socket);
    clock.step(599);
    expect(socket.destroyed).toBe(false);
    clock.step(101);
    expect(socket.destroyedWith?.message).toMatch(/no frame for 0.6 s/);
  });
});
