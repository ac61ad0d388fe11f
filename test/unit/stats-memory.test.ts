/**
 * What keeps the exporter's memory small: dockerode's ssh2 and gRPC parts are loaded only when
 * used. Checked in a fresh process of the built CLI (this test process has loaded them already).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', 'dist');

/** Runs a script in a fresh Node process that first loads the CLI's modules as `quayside` does. */
function inFreshProcess(script: string): string {
  const prelude = `require(${JSON.stringify(join(DIST, 'cli', 'main.js'))});
const loaded = (part) => Object.keys(require.cache).some((file) => file.includes('/node_modules/' + part + '/'));`;
  return execFileSync(process.execPath, ['-e', `${prelude}\n${script}`], {
    encoding: 'utf8',
    cwd: join(__dirname, '..', '..'),
  }).trim();
}

describe('stats-exporter memory: modules loaded only when used', function () {
  this.timeout(30_000);

  it('loads dockerode without ssh2, gRPC or protobuf', () => {
    const out = inFreshProcess(
      `console.log(JSON.stringify({ dockerode: loaded('dockerode'), ssh2: loaded('ssh2'), grpc: loaded('@grpc/grpc-js'), protobuf: loaded('protobufjs') }));`,
    );
    assert.deepEqual(JSON.parse(out), { dockerode: true, ssh2: false, grpc: false, protobuf: false });
  });

  it("loads no agent's client library until that agent is configured: consul, ioredis, yaml, ajv", () => {
    const out = inFreshProcess(`console.log(JSON.stringify(['consul', 'ioredis', 'yaml', 'ajv'].filter(loaded)));`);
    assert.deepEqual(JSON.parse(out), [], "every process that runs one agent would pay for the others' libraries");
  });

  it('still reaches an ssh:// engine: ssh2 is loaded at the first ssh connection', () => {
    const out = inFreshProcess(`
const agent = require('docker-modem/lib/ssh.js')({ host: '127.0.0.1', port: 1 });
console.log(JSON.stringify({ agent: typeof agent.createConnection, ssh2: loaded('ssh2') }));`);
    assert.deepEqual(JSON.parse(out), { agent: 'function', ssh2: true });
  });
});
