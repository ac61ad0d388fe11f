/**
 * A RELP client (rsyslog's Reliable Event Logging Protocol, as librelp and imrelp speak it).
 *
 * Frames are `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. A session starts with `open` (offers
 * `relp_version=0`, `commands=syslog`), every `syslog` frame is answered by an `rsp` frame with the
 * same transaction number whose data starts with a status (`200 OK`), and the server may end the
 * session with `serverclose` (transaction number 0). Up to `window` messages are outstanding at
 * once; a message counts as delivered only when its `200` came back, and what was not
 * acknowledged when a session ended is sent again on the next one.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface RelpClientOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  /** Messages sent before waiting for acknowledgements (librelp's default is 128). */
  window?: number;
  connectTimeoutMs?: number;
  /** A session whose server answers nothing for this long is given up (and its messages resent). */
  ackTimeoutMs?: number;
  software?: string;
}

const MAX_TXNR = 999_999_999;
/** Long lines: the window counts messages, this keeps the bytes waiting for answers bounded too. */
const MAX_OUTSTANDING_BYTES = 4 * 1024 * 1024;
/** Frames larger than this from a server are a protocol error, not a reason to buffer more. */
const MAX_FRAME = 128 * 1024;

class RelpError extends Error {
  override name = 'RelpError';
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One connection with its transaction numbers and outstanding commands. */
class Session {
  private txnr = 0;
  private readonly waiting = new Map<number, Waiter>();
  private buffer: Buffer = Buffer.alloc(0);
  private watchdog: NodeJS.Timeout | undefined;
  ended: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly ackTimeoutMs: number,
    private readonly onEnd: (session: Session) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.end(error));
    socket.on('close', () => this.end(new RelpError('the RELP server closed the connection')));
    socket.on('end', () => this.end(new RelpError('the RELP server closed the connection')));
  }

  get outstanding(): number {
    return this.waiting.size;
  }

  /** Sends a command; resolves when the server answered it with a 2xx status. */
  command(name: string, data: Buffer): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.txnr = this.txnr >= MAX_TXNR ? 1 : this.txnr + 1;
    const txnr = this.txnr;
    const head = Buffer.from(data.length > 0 ? `${txnr} ${name} ${data.length} ` : `${txnr} ${name} 0`, 'latin1');
    const promise = new Promise<void>((resolve, reject) => this.waiting.set(txnr, { resolve, reject }));
    this.socket.write(data.length > 0 ? Buffer.concat([head, data, LF]) : Buffer.concat([head, LF]));
    if (this.waiting.size === 1) this.armWatchdog();
    return promise;
  }

  end(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    clearTimeout(this.watchdog);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.socket.destroy();
    this.onEnd(this);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(
      () => this.end(new RelpError(`no RELP acknowledgement within ${this.ackTimeoutMs} ms`)),
      this.ackTimeoutMs,
    );
    this.watchdog.unref();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = parseFrame(this.buffer);
      if (frame === 'incomplete') {
        if (this.buffer.length > MAX_FRAME) this.end(new RelpError('oversized frame from the RELP server'));
        return;
      }
      if (frame instanceof RelpError) {
        this.end(frame);
        return;
      }
      this.buffer = this.buffer.subarray(frame.length);
      this.handle(frame.txnr, frame.command, frame.data);
      if (this.ended) return;
    }
  }

  private handle(txnr: number, command: string, data: string): void {
    if (command === 'serverclose') {
      this.end(new RelpError('the RELP server closed the session'));
      return;
    }
    if (command !== 'rsp') return;
    const waiter = this.waiting.get(txnr);
    if (!waiter) return;
    this.waiting.delete(txnr);
    if (this.waiting.size > 0) this.armWatchdog();
    else clearTimeout(this.watchdog);
    if (/^2\d\d/.test(data)) waiter.resolve();
    else waiter.reject(new RelpError(`the RELP server answered ${JSON.stringify(data.split('\n')[0]!.slice(0, 200))}`));
  }
}

const LF = Buffer.from('\n');

type Frame = { txnr: number; command: string; data: string; length: number };

/** One frame from the start of `buffer`, 'incomplete' when more bytes are needed. */
export function parseFrame(buffer: Buffer): Frame | 'incomplete' | RelpError {
  const head = /^(\d{1,9}) ([a-z]{1,32}) (\d{1,9})( |\n)?/.exec(buffer.subarray(0, 64).toString('latin1'));
  if (!head) {
    const text = buffer.subarray(0, 64).toString('latin1');
    // Not a frame start, and not a prefix of one either.
    return /^\d{0,9}( [a-z]{0,32}( \d{0,9})?)?$/.test(text)
      ? 'incomplete'
      : new RelpError(`bad RELP frame from the server: ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (head[4] === undefined) return 'incomplete';
  const dataLength = Number(head[3]);
  if (dataLength > MAX_FRAME) return new RelpError('oversized frame from the RELP server');
  if (dataLength === 0) {
    // `TXNR COMMAND 0` and then the trailer LF (some servers also send `0 ` + LF).
    const end = head[4] === '\n' ? head[0].length : buffer.indexOf(0x0a, head[0].length);
    if (end < 0) return 'incomplete';
    return { txnr: Number(head[1]), command: head[2]!, data: '', length: head[4] === '\n' ? end : end + 1 };
  }
  const start = head[0].length;
  if (buffer.length < start + dataLength + 1) return 'incomplete';
  if (buffer[start + dataLength] !== 0x0a) return new RelpError('RELP frame without its trailer');
  return {
    txnr: Number(head[1]),
    command: head[2]!,
    data: buffer.subarray(start, start + dataLength).toString('utf8'),
    length: start + dataLength + 1,
  };
}

export class RelpClient {
  private session: Session | undefined;
  private opening: Promise<Session> | undefined;
  private openedOnce = false;
  private healthy = false;
  private closed = false;
  reconnects = 0;

  constructor(private readonly options: RelpClientOptions) {}

  get connected(): boolean {
    return this.session !== undefined || this.healthy;
  }

  open(): void {
    this.connect().catch(() => undefined);
  }

  /**
   * Sends every message whose `acked` entry is false, at most `window` outstanding, and marks each
   * acknowledged one. Rejects when the session ends: the ones still false go on the next call.
   * `accepted` runs as the last acknowledgement is handled, before the promise chain resumes.
   */
  async send(messages: readonly Buffer[], acked: boolean[], accepted?: () => void): Promise<void> {
    const session = await this.connect();
    const window = this.options.window ?? 128;
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let outstanding = 0;
      let outstandingBytes = 0;
      let failed = false;
      const pump = () => {
        // At most `window` messages, and (past the first) about MAX_OUTSTANDING_BYTES, in flight.
        while (
          !failed &&
          outstanding < window &&
          (outstanding === 0 || outstandingBytes < MAX_OUTSTANDING_BYTES) &&
          next < messages.length
        ) {
          const index = next++;
          if (acked[index]) continue;
          const size = messages[index]!.length;
          outstanding += 1;
          outstandingBytes += size;
          session.command('syslog', messages[index]!).then(
            () => {
              acked[index] = true;
              outstanding -= 1;
              outstandingBytes -= size;
              pump();
            },
            (error: Error) => {
              if (!failed) reject(error);
              failed = true;
            },
          );
        }
        if (!failed && next >= messages.length && outstanding === 0) {
          accepted?.();
          resolve();
        }
      };
      pump();
    });
  }

  /** Ends the session the polite way (`close`, answered by the server), within a second. */
  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (!session || session.ended) return;
    const done = session.command('close', Buffer.alloc(0)).catch(() => undefined);
    const timer = new Promise((resolve) => setTimeout(resolve, 1_000).unref());
    await Promise.race([done, timer]);
    session.end(new RelpError('closed'));
  }

  private connect(): Promise<Session> {
    if (this.session && !this.session.ended) return Promise.resolve(this.session);
    if (this.closed) return Promise.reject(new RelpError('the route is closed'));
    this.opening ??= this.openSession().then(
      (session) => {
        this.opening = undefined;
        return session;
      },
      (error: unknown) => {
        this.opening = undefined;
        this.healthy = false;
        throw error;
      },
    );
    return this.opening;
  }

  private async openSession(): Promise<Session> {
    const { host, port, tls } = this.options;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
      const timer = setTimeout(
        () => s.destroy(new Error(`connect to ${host}:${port} timed out`)),
        this.options.connectTimeoutMs ?? 10_000,
      );
      s.once('error', (error) => {
        clearTimeout(timer);
        s.destroy();
        reject(error);
      });
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.setNoDelay(true);
        s.setKeepAlive(true, 30_000);
        resolve(s);
      });
    });
    const session = new Session(socket, this.options.ackTimeoutMs ?? 30_000, (ended) => {
      if (this.session !== ended) return;
      this.session = undefined;
      this.healthy = false;
      // Reconnect without waiting for a line, so /readyz says whether the server is back.
      if (!this.closed) setTimeout(() => this.open(), 1_000).unref();
    });
    const offers = `relp_version=0\nrelp_software=${this.options.software ?? 'quayside'}\ncommands=syslog`;
    await session.command('open', Buffer.from(offers));
    if (this.openedOnce) this.reconnects += 1;
    this.openedOnce = true;
    this.healthy = true;
    this.session = session;
    return session;
  }
}
