import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/index.ts';

/** client-go's HTTP/2 health check timings (golang.org/x/net/http2 ReadIdleTimeout and PingTimeout). */
export interface Http2Health {
  /** A PING goes out this often, so a healthy connection reads a frame at least once per period. */
  readIdleMs: number;
  /** How much longer than readIdleMs a connection may read nothing before it is closed. */
  pingTimeoutMs: number;
}

/** What the watchdog reads of a socket; net.Socket and tls.TLSSocket have it. */
export interface WatchedSocket {
  readonly alpnProtocol?: string | false | null;
  readonly bytesRead: number;
  readonly destroyed: boolean;
  destroy(error?: Error): unknown;
}

interface Progress {
  bytesRead: number;
  at: number;
}

/**
 * Closes an HTTP/2 connection that read nothing for readIdle + pingTimeout. undici sends a PING every
 * readIdle but never times out its ack, so without this a silently dead connection would stall every
 * request multiplexed on it. Destroying the socket fails those requests, and the next one reconnects.
 */
export class ConnectionHealth {
  readonly #server: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #limitMs: number;
  /** Every pingTimeout/3, so a dead connection closes at most that long after the limit. */
  readonly #sampleMs: number;
  readonly #sockets = new Map<WatchedSocket, Progress>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(init: { server: string; clock: Clock; log: Logger; health: Http2Health }) {
    this.#server = init.server;
    this.#clock = init.clock;
    this.#log = init.log;
    this.#limitMs = init.health.readIdleMs + init.health.pingTimeoutMs;
    this.#sampleMs = Math.max(1, Math.floor(init.health.pingTimeoutMs / 3));
  }

  /** Watches `socket` from now on if it speaks HTTP/2; HTTP/1.1 sockets each carry one request, not all. */
  track(socket: WatchedSocket): void {
    if (this.#stopped || socket.alpnProtocol !== 'h2') return;
    this.#sockets.set(socket, { bytesRead: socket.bytesRead, at: this.#clock.now() });
    this.#timer ??= this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sockets.clear();
  }

  #arm(): TimerHandle {
    // undici refs a socket only while requests use it; the watchdog of an idle one must not hold the process.
    return this.#clock.setTimeout(
      () => {
        this.#sample();
      },
      this.#sampleMs,
      { unref: true },
    );
  }

  #sample(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (const [socket, seen] of this.#sockets) {
      if (socket.destroyed) {
        this.#sockets.delete(socket);
      } else if (socket.bytesRead !== seen.bytesRead) {
        seen.bytesRead = socket.bytesRead;
        seen.at = now;
      } else if (now - seen.at >= this.#limitMs) {
        this.#sockets.delete(socket);
        const message = `HTTP/2 connection to ${this.#server} was unresponsive (no frame for ${this.#limitMs / 1000} s)`;
        const err = new Error(message);
        this.#log.warn({ err, server: this.#server, silentMs: now - seen.at }, message);
        socket.destroy(err);
      }
    }
    if (this.#sockets.size > 0) this.#timer = this.#arm();
  }
}
