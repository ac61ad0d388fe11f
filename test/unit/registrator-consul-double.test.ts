/** The Consul agent API double answers as current strict Consul does (validation codes and texts of its source). */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ConsulDouble } from '../consul/double';
import { eventually } from '../support/eventually';

describe('Consul agent API double', () => {
  let consul: ConsulDouble;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${consul.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text: await response.text(),
      headers: response.headers,
    };
  };
  beforeEach(async () => {
    consul = await new ConsulDouble().start();
  });
  afterEach(() => consul.close());

  it('answers the leader', async () => assert.equal((await call('GET', '/v1/status/leader')).text, '"127.0.0.1:8300"'));

  it('registers (upsert), lists as Service not Name, names checks, and deregisters', async () => {
    const body = {
      ID: 'web1',
      Name: 'web',
      Tags: ['a'],
      Address: '10.0.0.1',
      Port: 80,
      Meta: { k: 'v' },
      Checks: [{ TTL: '30s' }, { HTTP: 'http://10.0.0.1/h', Interval: '10s', Status: 'passing' }],
    };
    assert.equal((await call('PUT', '/v1/agent/service/register', body)).status, 200);
    assert.equal((await call('PUT', '/v1/agent/service/register', { ...body, Port: 81 })).status, 200);
    const services = JSON.parse((await call('GET', '/v1/agent/services')).text);
    assert.deepEqual(Object.keys(services), ['web1']);
    assert.equal(services.web1.Service, 'web');
    assert.equal(services.web1.Port, 81);
    const checks = JSON.parse((await call('GET', '/v1/agent/checks')).text);
    assert.deepEqual(Object.keys(checks).sort(), ['service:web1:1', 'service:web1:2']);
    assert.equal(checks['service:web1:1'].Status, 'critical');
    assert.equal(checks['service:web1:2'].Status, 'passing');
    assert.equal(checks['service:web1:1'].Name, "Service 'web' check");
    assert.equal((await call('PUT', '/v1/agent/service/deregister/web1')).status, 200);
    assert.equal(consul.checks.size, 0);
  });

  it("answers 404 with Consul's text to a deregister of an unknown ID", async () => {
    const r = await call('PUT', '/v1/agent/service/deregister/nope');
    assert.equal(r.status, 404);
    assert.match(r.type, /^text\/plain/);
    assert.equal(r.text, 'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.');
  });

  const invalid: Array<[string, unknown, number, string]> = [
    ['an empty body', '', 400, 'Request decode failed: EOF'],
    [
      'an unknown field (Script, as old registrators send)',
      { Name: 'x', Check: { Script: 'true', Interval: '10s' } },
      400,
      'Request decode failed: json: unknown field "Script"',
    ],
    [
      'a bad duration',
      { Name: 'x', Check: { TTL: 'soon' } },
      400,
      'Request decode failed: time: invalid duration "soon"',
    ],
    [
      'a wrong type',
      { Name: 'x', Port: '80' },
      400,
      'Request decode failed: json: cannot unmarshal string into Go struct field ServiceDefinition.Port of type int',
    ],
    ['no Name', { ID: 'x' }, 400, 'Missing service name'],
    ['address 0.0.0.0', { Name: 'x', Address: '0.0.0.0' }, 400, 'Invalid service address'],
    ['address ::', { Name: 'x', Address: '::' }, 400, 'Invalid service address'],
    [
      'a Meta key with a dot',
      { Name: 'x', Meta: { 'com.example': '1' } },
      400,
      "Invalid Service Meta: Couldn't load metadata pair ('com.example', '1'): Key contains invalid characters",
    ],
    [
      'a Meta key starting consul-',
      { Name: 'x', Meta: { 'consul-x': '1' } },
      400,
      "Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use",
    ],
    [
      'a Meta value over 512 bytes (256 characters of two bytes each fit; 257 do not)',
      { Name: 'x', Meta: { k: 'é'.repeat(257) } },
      400,
      `Invalid Service Meta: Couldn't load metadata pair ('k', '${'é'.repeat(257)}'): Value is too long (limit: 512 characters)`,
    ],
    [
      '65 Meta pairs',
      { Name: 'x', Meta: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
      400,
      'Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs',
    ],
    [
      'a check with no type',
      { Name: 'x', Check: { Interval: '10s' } },
      400,
      'Invalid check: TTL must be > 0 for TTL checks',
    ],
    [
      'an HTTP check without interval',
      { Name: 'x', Check: { HTTP: 'http://x' } },
      400,
      'Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks',
    ],
    [
      'interval and TTL',
      { Name: 'x', Check: { TCP: 'x:1', Interval: '1s', TTL: '1s' } },
      400,
      'Invalid check: Interval and TTL cannot both be specified',
    ],
    [
      'interval and TTL on a check of no other type',
      { Name: 'x', Check: { TTL: '1s', Interval: '1s' } },
      400,
      'Invalid check: Interval and TTL cannot both be specified',
    ],
    [
      'a negative output size',
      { Name: 'x', Checks: [{ TTL: '1s', OutputMaxSize: -1 }] },
      400,
      'Invalid check: MaxOutputMaxSize must be positive',
    ],
    [
      'more failures before warning than before critical',
      { Name: 'x', Check: { TCP: 'x:1', Interval: '1s', FailuresBeforeWarning: 3, FailuresBeforeCritical: 1 } },
      400,
      "Invalid check: FailuresBeforeWarning can't be higher than FailuresBeforeCritical",
    ],
    [
      'a bad check status',
      { Name: 'x', Check: { TTL: '1s', Status: 'ok' } },
      400,
      "Status for checks must 'passing', 'warning', 'critical'",
    ],
    [
      'a script check while scripts are disabled',
      { Name: 'x', Check: { Args: ['true'], Interval: '1s' } },
      500,
      "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true",
    ],
  ];
  for (const [what, body, status, text] of invalid) {
    it(`refuses ${what}: ${status} ${text.slice(0, 40)}…`, async () => {
      const r = await call('PUT', '/v1/agent/service/register', body);
      assert.deepEqual([r.status, r.text], [status, text]);
      assert.match(r.type, /^text\/plain/);
      assert.equal(consul.services.size, 0);
    });
  }

  it('accepts keys case-insensitively and the snake_case aliases', async () => {
    const r = await call('PUT', '/v1/agent/service/register', {
      name: 'x',
      id: 'x1',
      check: { ttl: '5s', deregister_critical_service_after: '1m' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(consul.checks.get('service:x1')?.Definition.DeregisterCriticalServiceAfter, 60e9);
  });

  it('replaces existing checks only when asked', async () => {
    await call('PUT', '/v1/agent/service/register', { ID: 's', Name: 's', Checks: [{ TTL: '5s' }, { TTL: '6s' }] });
    await call('PUT', '/v1/agent/service/register', { ID: 's', Name: 's', Check: { TTL: '5s' } });
    assert.equal(consul.checksOf('s').length, 3);
    await call('PUT', '/v1/agent/service/register?replace-existing-checks=true', {
      ID: 's',
      Name: 's',
      Check: { TTL: '5s' },
    });
    assert.deepEqual(
      consul.checksOf('s').map((c) => c.CheckID),
      ['service:s'],
    );
  });

  it('updates TTL checks: pass/warn/fail, update with status and output; 404 for unknown; 500 for non-TTL', async () => {
    await call('PUT', '/v1/agent/service/register', {
      ID: 's',
      Name: 's',
      Checks: [
        { CheckID: 'ttl', TTL: '5s' },
        { CheckID: 'tcp', TCP: 'x:1', Interval: '5s' },
      ],
    });
    assert.equal((await call('PUT', '/v1/agent/check/pass/ttl')).status, 200);
    assert.equal(consul.checks.get('ttl')?.Status, 'passing');
    assert.equal((await call('PUT', '/v1/agent/check/warn/ttl')).status, 200);
    assert.equal(consul.checks.get('ttl')?.Status, 'warning');
    assert.equal((await call('PUT', '/v1/agent/check/update/ttl', { Status: 'critical', Output: 'down' })).status, 200);
    assert.deepEqual([consul.checks.get('ttl')?.Status, consul.checks.get('ttl')?.Output], ['critical', 'down']);
    assert.deepEqual(
      Object.values(await call('PUT', '/v1/agent/check/update/ttl', { Status: 'fine' })).slice(0, 1),
      [400],
    );
    const unknown = await call('PUT', '/v1/agent/check/fail/none');
    assert.deepEqual(
      [unknown.status, unknown.text],
      [404, 'Unknown check ID "none". Ensure that the check ID is passed, not the check name.'],
    );
    assert.equal((await call('PUT', '/v1/agent/check/pass/tcp')).status, 500);
  });

  it('shows the services in the catalog and health views; ?passing filters', async () => {
    await call('PUT', '/v1/agent/service/register', {
      ID: 'a',
      Name: 'web',
      Tags: ['x'],
      Address: '10.0.0.1',
      Port: 80,
      Check: { TTL: '5s', Status: 'passing' },
    });
    await call('PUT', '/v1/agent/service/register', {
      ID: 'b',
      Name: 'web',
      Address: '10.0.0.2',
      Port: 80,
      Check: { TTL: '5s' },
    });
    assert.deepEqual(JSON.parse((await call('GET', '/v1/catalog/services')).text), { web: ['x'] });
    const catalog = await call('GET', '/v1/catalog/service/web');
    assert.deepEqual(
      JSON.parse(catalog.text).map((e: { ServiceAddress: string }) => e.ServiceAddress),
      ['10.0.0.1', '10.0.0.2'],
    );
    assert.ok(Number(catalog.headers.get('x-consul-index')) >= 1);
    const health = JSON.parse((await call('GET', '/v1/health/service/web')).text);
    assert.deepEqual(
      health[0].Checks.map((c: { CheckID: string }) => c.CheckID),
      ['serfHealth', 'service:a'],
    );
    assert.deepEqual(
      JSON.parse((await call('GET', '/v1/health/service/web?passing')).text).map(
        (e: { Service: { ID: string } }) => e.Service.ID,
      ),
      ['a'],
    );
    assert.equal((await call('GET', '/v1/catalog/service/none')).text, '[]');
  });

  it('puts a service in maintenance and out again', async () => {
    await call('PUT', '/v1/agent/service/register', { ID: 'a', Name: 'web' });
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/a')).status, 400);
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/a?enable=true&reason=paused')).status, 200);
    assert.equal(consul.checks.get('_service_maintenance:a')?.Status, 'critical');
    await call('PUT', '/v1/agent/service/maintenance/a?enable=false');
    assert.equal(consul.checks.has('_service_maintenance:a'), false);
  });

  it('keeps KV: put, get (base64, raw, recurse, keys), 404 when missing, delete', async () => {
    assert.equal((await call('GET', '/v1/kv/svc/?recurse')).status, 404);
    assert.equal((await call('PUT', '/v1/kv/svc/web/a?flags=42', '10.0.0.1:80')).text, 'true');
    await call('PUT', '/v1/kv/svc/db/b', '10.0.0.2:5432');
    const [entry] = JSON.parse((await call('GET', '/v1/kv/svc/web/a')).text);
    assert.deepEqual(
      [entry.Key, entry.Flags, Buffer.from(entry.Value, 'base64').toString()],
      ['svc/web/a', 42, '10.0.0.1:80'],
    );
    assert.equal((await call('GET', '/v1/kv/svc/web/a?raw')).text, '10.0.0.1:80');
    assert.equal(JSON.parse((await call('GET', '/v1/kv/svc/?recurse')).text).length, 2);
    assert.deepEqual(JSON.parse((await call('GET', '/v1/kv/svc/?keys&separator=/')).text), ['svc/db/', 'svc/web/']);
    assert.equal((await call('DELETE', '/v1/kv/svc/web/a')).text, 'true');
    assert.equal((await call('GET', '/v1/kv/svc/web/a')).status, 404);
    assert.equal((await call('PUT', '/v1/kv/svc/x?cas=5', 'v')).text, 'false');
  });

  it('enforces X-Consul-Token when configured (the leader stays open)', async () => {
    await consul.close();
    consul = await new ConsulDouble({ token: 's3cret' }).start();
    assert.equal((await call('GET', '/v1/status/leader')).status, 200);
    assert.equal((await call('GET', '/v1/agent/services')).status, 403);
    assert.deepEqual(
      Object.values(await call('GET', '/v1/agent/services', undefined, { 'X-Consul-Token': 'wrong' })).slice(0, 3),
      [403, 'text/plain; charset=utf-8', 'ACL not found'],
    );
    assert.equal((await call('GET', '/v1/agent/services', undefined, { 'X-Consul-Token': 's3cret' })).status, 200);
    assert.equal((await call('GET', '/v1/agent/services', undefined, { Authorization: 'Bearer s3cret' })).status, 200);
  });

  it('405 for a wrong method, with Allow', async () => {
    const r = await call('GET', '/v1/agent/service/register');
    assert.equal(r.status, 405);
  });

  it('hooks: restart empty, inject 5xx, latency, go down and come back on the same port', async () => {
    await call('PUT', '/v1/agent/service/register', { ID: 'a', Name: 'web' });
    consul.restartEmpty();
    assert.equal(consul.services.size, 0);
    consul.fail(2, 503, 'No cluster leader');
    assert.deepEqual(
      [
        (await call('GET', '/v1/agent/services')).status,
        (await call('GET', '/v1/agent/services')).status,
        (await call('GET', '/v1/agent/services')).status,
      ],
      [503, 503, 200],
    );
    consul.latencyMs = 100;
    const began = Date.now();
    await call('GET', '/v1/status/leader');
    assert.ok(Date.now() - began >= 90);
    consul.latencyMs = 0;
    const url = consul.url;
    await consul.down();
    await assert.rejects(fetch(`${url}/v1/status/leader`));
    await consul.up();
    assert.equal(consul.url, url);
    assert.equal((await call('GET', '/v1/status/leader')).status, 200);
  });

  it('runs as its own process on a given port, with hooks over HTTP', async function () {
    this.timeout(20_000);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '..', 'consul', 'main.ts'), '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => assert.equal((await fetch(`${base}/v1/status/leader`)).status, 200), 15_000, 100);
      await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'x' }) });
      const state = (await (await fetch(`${base}/_double/state`)).json()) as { services: Record<string, unknown> };
      assert.deepEqual(Object.keys(state.services), ['x']);
      await fetch(`${base}/_double/restart-empty`, { method: 'POST' });
      assert.equal(await (await fetch(`${base}/v1/agent/services`)).text(), '{}');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
