/**
 * The TCP transport's notion of "up", which /readyz and quayside_logrouter_route_up show: a quiet
 * host sends no line for a long time, so it must not wait for the first line to connect, and a
 * receiver that closes an idle connection has not failed. And its replay window: what a receiver
 * that went away may not have read is written again on the next connection.
 */
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseFrame } from '../../agents/logrouter/transports/relp';
import { ReplayWindow } from '../../agents/logrouter/transports/replay-window';
import { StreamTransport } from '../../agents/logrouter/transports/stream';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';

describe('logrouter TCP transport: up or down before and between lines', () => {
  let server: Server;
  let sockets: Socket[];
  /** What each connection received, in order of connections. */
  let received: string[];
  let port: number;

  beforeEach(async () => {
    sockets = [];
    received = [];
    server = createServer((socket) => {
      const index = sockets.push(socket) - 1;
      received[index] = '';
      socket.on('data', (chunk) => (received[index] += chunk.toString()));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('connects when opened, before any line, and is up', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port });
    assert.equal(transport.connected, false, 'nothing tried yet');
    transport.open();
    await eventually(() => assert.equal(sockets.length, 1));
    await eventually(() => assert.equal(transport.connected, true));
    transport.close();
  });

  it('stays up when the receiver closes an idle connection, and writes on a new one', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port });
    transport.open();
    await eventually(() => assert.equal(sockets.length, 1));
    sockets[0]!.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(transport.connected, true, 'an idle close is not a failure');
    await transport.write(Buffer.from('line\n'), 1);
    assert.equal(sockets.length, 2);
    transport.close();
  });

  it('is down when the destination refuses the connection', async () => {
    const closed = await freePort();
    const transport = new StreamTransport({ host: '127.0.0.1', port: closed });
    transport.open();
    await assert.rejects(transport.write(Buffer.from('line\n'), 1), /ECONNREFUSED/);
    assert.equal(transport.connected, false);
  });

  it('writes again, on a new connection and without waiting for a new line, what it wrote before the receiver went away', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port });
    await transport.write(Buffer.from('a1\na2\n'), 2);
    await transport.write(Buffer.from('b1\n'), 1);
    await eventually(() => assert.equal(received[0], 'a1\na2\nb1\n'));
    // A receiver restart: whatever it had read may not have been processed; the reset shows it.
    sockets[0]!.resetAndDestroy();
    await eventually(() => assert.equal(received[1], 'a1\na2\nb1\n'), 5_000);
    assert.equal(transport.replayedLines, 3, 'counted as possible duplicates');
    await transport.write(Buffer.from('c1\n'), 1);
    await eventually(() => assert.equal(received[1], 'a1\na2\nb1\nc1\n', 'in order, each once more at most'));
    transport.close();
  });

  it('keeps at most replay.bytes, and replays nothing after its own close or with the window off', async () => {
    const bounded = new StreamTransport({ host: '127.0.0.1', port, replay: { ms: 60_000, bytes: 8 } });
    await bounded.write(Buffer.from('old-1\n'), 1);
    await bounded.write(Buffer.from('new-1\n'), 1);
    await bounded.write(Buffer.from('new-2\n'), 1);
    await eventually(() => assert.equal(received[0], 'old-1\nnew-1\nnew-2\n'));
    sockets[0]!.resetAndDestroy();
    await eventually(() => assert.equal(received[1], 'new-2\n'), 5_000);
    assert.equal(bounded.replayedLines, 1);
    bounded.close();

    const off = new StreamTransport({ host: '127.0.0.1', port, replay: { ms: 0, bytes: 1024 } });
    await off.write(Buffer.from('x\n'), 1);
    await eventually(() => assert.equal(received[2], 'x\n'));
    sockets[2]!.resetAndDestroy();
    // Until the reset is seen, a write may still go to the dying connection: write until one lands.
    await eventually(async () => {
      await off.write(Buffer.from('y\n'), 1).catch(() => undefined);
      assert.match(received[3] ?? '', /^y\n/);
    }, 5_000);
    assert.doesNotMatch(received[3]!, /x/, 'nothing replayed');
    assert.equal(off.replayedLines, 0);
    off.close();
  });
});

describe('logrouter RELP frames from the server', () => {
  it('reads answers, a server close and frames cut anywhere, and refuses what is not RELP', () => {
    const frames = Buffer.from('2 rsp 6 200 OK\n0 serverclose 0\n');
    assert.deepEqual(parseFrame(frames), { txnr: 2, command: 'rsp', data: '200 OK', length: 15 });
    assert.deepEqual(parseFrame(frames.subarray(15)), { txnr: 0, command: 'serverclose', data: '', length: 16 });
    for (let cut = 0; cut < 15; cut++) assert.equal(parseFrame(frames.subarray(0, cut)), 'incomplete', `cut at ${cut}`);
    assert.match(String(parseFrame(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))), /bad RELP frame/);
    assert.match(String(parseFrame(Buffer.from('3 rsp 2 OKX'))), /without its trailer/);
  });
});

describe('logrouter replay window', () => {
  it('keeps the writes of the last ms and bytes per connection, across the end of its ring', () => {
    const window = new ReplayWindow<string>({ ms: 1_000, bytes: 10 });
    window.add(Buffer.from('aaaa'), 1, 'one', 0);
    window.add(Buffer.from('bbbb'), 1, 'two', 10);
    window.add(Buffer.from('cccc'), 2, 'one', 20); // wraps: 12 bytes written into 10
    assert.deepEqual(window.take('one', 30), { data: Buffer.from('cccc'), lines: 2 }, 'aaaa was overwritten');
    assert.equal(window.take('one', 30), undefined, 'taken once');
    assert.equal(window.take('two', 2_000), undefined, 'older than the window');
    window.add(Buffer.from('dd'), 1, 'three', 3_000);
    window.add(Buffer.from('x'.repeat(11)), 9, 'three', 3_001);
    assert.equal(
      window.take('three', 3_002),
      undefined,
      'a write larger than the window empties it, so nothing is replayed out of order',
    );
    const off = new ReplayWindow<string>({ ms: 0, bytes: 10 });
    off.add(Buffer.from('a'), 1, 'one', 0);
    assert.equal(off.take('one', 0), undefined);
  });
});
