/**
 * The TCP transport's notion of "up", which /readyz and quayside_logrouter_route_up show: a quiet
 * host sends no line for a long time, so it must not wait for the first line to connect, and a
 * receiver that closes an idle connection has not failed.
 */
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { StreamTransport } from '../../agents/logrouter/transports/stream';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';

describe('logrouter TCP transport: up or down before and between lines', () => {
  let server: Server;
  let sockets: Socket[];
  let port: number;

  beforeEach(async () => {
    sockets = [];
    server = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
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
    const { settled } = await transport.write(Buffer.from('line\n'));
    await settled;
    assert.equal(sockets.length, 2);
    transport.close();
  });

  it('is down when the destination refuses the connection', async () => {
    const closed = await freePort();
    const transport = new StreamTransport({ host: '127.0.0.1', port: closed });
    transport.open();
    await assert.rejects(transport.write(Buffer.from('line\n')), /ECONNREFUSED/);
    assert.equal(transport.connected, false);
  });
});
