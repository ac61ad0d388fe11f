/** The container → services mapping: registrator's SERVICE_* vocabulary, and each of its traps fixed. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectHostAddress, isLoopback, isWildcard } from '../../agents/registrator/addresses';
import {
  servicesFor,
  serviceNameFromImage,
  specHash,
  type ModelSettings,
} from '../../agents/registrator/service-model';
import { inspectOf, modelSettings, published, type InspectSpec } from '../support/registrator-fixtures';

function model(spec: InspectSpec, settings: Partial<ModelSettings> = {}) {
  return servicesFor(inspectOf(spec), modelSettings(settings));
}

function only(spec: InspectSpec, settings: Partial<ModelSettings> = {}) {
  const result = model(spec, settings);
  assert.equal(result.services.length, 1, `one service expected: ${JSON.stringify(result)}`);
  return result.services[0]!.registration;
}

describe('registrator service model', () => {
  describe('identity and names', () => {
    const cases: Array<{
      title: string;
      spec: InspectSpec;
      settings?: Partial<ModelSettings>;
      id?: string;
      name?: string;
    }> = [
      {
        title: 'ID is <node>:<container>:<port>',
        spec: { ports: { '80/tcp': published(8080) } },
        id: 'node1:web:80',
        name: 'app',
      },
      {
        title: 'UDP ports get :udp and the udp tag',
        spec: { ports: { '53/udp': published(5353) } },
        id: 'node1:web:53:udp',
        name: 'app',
      },
      {
        title: 'SERVICE_ID replaces the ID entirely',
        spec: { ports: { '80/tcp': published(8080) }, env: ['SERVICE_ID=custom'] },
        id: 'custom',
      },
      {
        title: 'SERVICE_NAME names it',
        spec: { ports: { '80/tcp': published(8080) }, env: ['SERVICE_NAME=shop'] },
        name: 'shop',
      },
      {
        title: 'a label wins over the same env key',
        spec: {
          ports: { '80/tcp': published(8080) },
          env: ['SERVICE_NAME=fromenv'],
          labels: { SERVICE_NAME: 'fromlabel' },
        },
        name: 'fromlabel',
      },
      {
        title: 'the port-specific key wins over the generic one',
        spec: {
          ports: { '80/tcp': published(8080) },
          labels: { SERVICE_80_NAME: 'specific' },
          env: ['SERVICE_NAME=generic'],
        },
        name: 'specific',
      },
      {
        title: "another port's key does not apply",
        spec: { ports: { '80/tcp': published(8080) }, env: ['SERVICE_81_NAME=other'] },
        name: 'app',
      },
      {
        title: 'an empty value counts as unset',
        spec: { ports: { '80/tcp': published(8080) }, env: ['SERVICE_NAME='] },
        name: 'app',
      },
      {
        title: 'the node name comes from settings',
        spec: { ports: { '80/tcp': published(8080) } },
        settings: { node: 'docker-7' },
        id: 'docker-7:web:80',
      },
    ];
    for (const c of cases) {
      it(c.title, () => {
        const service = only(c.spec, c.settings);
        if (c.id) assert.equal(service.ID, c.id);
        if (c.name) assert.equal(service.Name, c.name);
      });
    }

    it('appends -<port> to the name when several ports are registered, unless the name is port-specific', () => {
      const result = model({
        ports: { '80/tcp': published(8080), '443/tcp': published(8443), '53/udp': published(5353) },
        env: ['SERVICE_NAME=multi', 'SERVICE_443_NAME=tls'],
      });
      assert.deepEqual(
        result.services.map((s) => s.registration.Name),
        ['multi-53', 'multi-80', 'tls'],
      );
    });

    it('a generic SERVICE_ID on several ports keeps the first port and says how to fix the others', () => {
      const result = model({ ports: { '80/tcp': published(80), '81/tcp': published(81) }, env: ['SERVICE_ID=one'] });
      assert.deepEqual(
        result.services.map((s) => [s.registration.ID, s.registration.Port]),
        [['one', 80]],
      );
      assert.deepEqual(result.skipped, [
        { port: '81/tcp', reason: 'service ID one is already used by port 80; give SERVICE_81_ID' },
      ]);
    });

    it('names by image base name without registry, path, tag or digest; by container name for an image ID', () => {
      assert.equal(serviceNameFromImage('registry:5000/team/app:1.2', 'web'), 'app');
      assert.equal(serviceNameFromImage('app@sha256:' + 'a'.repeat(64), 'web'), 'app');
      assert.equal(serviceNameFromImage('sha256:' + 'b'.repeat(64), 'web'), 'web');
      assert.equal(serviceNameFromImage('redis', 'web'), 'redis');
    });
  });

  describe('tags', () => {
    it('keeps the given order: container tags, then -tags, then udp (registrator reversed them)', () => {
      const service = only(
        { ports: { '53/udp': published(53) }, env: ['SERVICE_TAGS=x,y\\,z'] },
        { tags: ['forced1', 'forced2'] },
      );
      assert.deepEqual(service.Tags, ['x', 'y,z', 'forced1', 'forced2', 'udp']);
    });
    it('a port-specific SERVICE_<port>_TAGS replaces the generic tags', () => {
      assert.deepEqual(
        only({ ports: { '80/tcp': published(80) }, env: ['SERVICE_TAGS=generic', 'SERVICE_80_TAGS=portspecific'] })
          .Tags,
        ['portspecific'],
      );
    });
  });

  describe('ignore and explicit', () => {
    for (const value of ['false', '0', 'no', 'FALSE']) {
      it(`SERVICE_IGNORE=${value} does not ignore`, () =>
        assert.equal(
          model({ ports: { '80/tcp': published(80) }, env: [`SERVICE_IGNORE=${value}`] }).services.length,
          1,
        ));
    }
    for (const value of ['true', '1', 'yes']) {
      it(`SERVICE_IGNORE=${value} ignores, and says so`, () => {
        const result = model({ ports: { '80/tcp': published(80) }, env: [`SERVICE_IGNORE=${value}`] });
        assert.equal(result.services.length, 0);
        assert.deepEqual(result.skipped, [{ port: '80/tcp', reason: 'SERVICE_IGNORE' }]);
      });
    }
    it('SERVICE_<port>_IGNORE ignores only that port', () => {
      const result = model({
        ports: { '80/tcp': published(80), '81/tcp': published(81) },
        env: ['SERVICE_81_IGNORE=1'],
      });
      assert.deepEqual(
        result.services.map((s) => s.registration.Port),
        [80],
      );
    });
    it('-explicit registers only ports with a name', () => {
      const result = model(
        { ports: { '80/tcp': published(80), '81/tcp': published(81) }, env: ['SERVICE_81_NAME=named'] },
        { explicit: true },
      );
      assert.deepEqual(
        result.services.map((s) => s.registration.Name),
        ['named'],
      );
    });
  });

  describe('meta', () => {
    it('turns other SERVICE_* keys into Meta, with the ownership marker and a spec digest', () => {
      const service = only({
        ports: { '80/tcp': published(80) },
        env: ['SERVICE_REGION=us2', 'SERVICE_80_TIER=web', 'SERVICE_CHECK_TTL=30s'],
      });
      assert.equal(service.Meta.region, 'us2');
      assert.equal(service.Meta.tier, 'web');
      assert.equal(service.Meta.check_ttl, undefined, 'check keys are not Meta');
      assert.equal(service.Meta.quayside_node, 'node1');
      assert.equal(service.Meta.quayside_container, inspectOf({}).Id);
      assert.equal(service.Meta.quayside_spec, specHash(service));
    });
    it('drops Meta keys Consul refuses instead of failing the whole registration, and says which', () => {
      const result = model({
        ports: { '80/tcp': published(80) },
        labels: {
          'SERVICE_com.example': '1',
          'SERVICE_consul-x': '1',
          SERVICE_LONG: 'v'.repeat(513),
          SERVICE_QUAYSIDE_NODE: 'spoof',
          SERVICE_OK: 'yes',
        },
      });
      const meta = result.services[0]!.registration.Meta;
      assert.equal(meta.ok, 'yes');
      assert.equal(meta.quayside_node, 'node1');
      assert.deepEqual(result.dropped.map((d) => d.key).sort(), [
        'SERVICE_com.example',
        'SERVICE_consul-x',
        'SERVICE_long',
        'SERVICE_quayside_node',
      ]);
    });
    it('keeps at most 64 Meta pairs, ours included', () => {
      const labels = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`SERVICE_K${i}`, 'v']));
      const result = model({ ports: { '80/tcp': published(80) }, labels });
      assert.equal(Object.keys(result.services[0]!.registration.Meta).length, 64);
      assert.equal(result.dropped.length, 9);
    });
    it('measures Meta values in bytes, as Consul does: 300 two-byte characters are too long', () => {
      const result = model({
        ports: { '80/tcp': published(80) },
        labels: { SERVICE_WIDE: 'é'.repeat(300), SERVICE_FITS: 'é'.repeat(256) },
      });
      const meta = result.services[0]!.registration.Meta;
      assert.equal(meta.wide, undefined);
      assert.equal(meta.fits, 'é'.repeat(256));
      assert.deepEqual(
        result.dropped.map((d) => d.key),
        ['SERVICE_wide'],
      );
    });
  });

  describe('checks', () => {
    const spec = (env: string[]): InspectSpec => ({ ports: { '80/tcp': published(8080) }, env });
    it('makes one check per type given, sharing interval and timeout', () => {
      const checks = only(
        spec([
          'SERVICE_CHECK_HTTP=/health',
          'SERVICE_CHECK_TCP=true',
          'SERVICE_CHECK_INTERVAL=7s',
          'SERVICE_CHECK_TIMEOUT=2s',
        ]),
      ).Checks;
      assert.deepEqual(checks, [
        { HTTP: 'http://192.0.2.1:8080/health', Interval: '7s', Timeout: '2s' },
        { TCP: '192.0.2.1:8080', Interval: '7s', Timeout: '2s' },
      ]);
    });
    it('HTTPS with method and TLS skip-verify; HTTP method', () => {
      const checks = only(
        spec([
          'SERVICE_CHECK_HTTPS=/s',
          'SERVICE_CHECK_HTTPS_METHOD=head',
          'SERVICE_CHECK_TLS_SKIP_VERIFY=true',
          'SERVICE_CHECK_HTTP=/p',
          'SERVICE_CHECK_HTTP_METHOD=POST',
        ]),
      ).Checks;
      assert.deepEqual(checks, [
        { HTTP: 'http://192.0.2.1:8080/p', Method: 'POST', Interval: '10s' },
        { HTTP: 'https://192.0.2.1:8080/s', Method: 'HEAD', TLSSkipVerify: true, Interval: '10s' },
      ]);
    });
    it('gRPC with TLS; TTL; initial status and deregister-after on every check', () => {
      const checks = only(
        spec([
          'SERVICE_CHECK_GRPC=1',
          'SERVICE_CHECK_GRPC_USE_TLS=1',
          'SERVICE_CHECK_TTL=30s',
          'SERVICE_CHECK_INITIAL_STATUS=passing',
          'SERVICE_CHECK_DEREGISTER_AFTER=90m',
        ]),
      ).Checks;
      assert.deepEqual(checks, [
        {
          GRPC: '192.0.2.1:8080',
          GRPCUseTLS: true,
          Interval: '10s',
          Status: 'passing',
          DeregisterCriticalServiceAfter: '90m',
        },
        { CheckID: 'service:node1:web:80', TTL: '30s', Status: 'passing', DeregisterCriticalServiceAfter: '90m' },
      ]);
    });
    it('splits a script into arguments as a shell would, with $SERVICE_IP and $SERVICE_PORT filled in', () => {
      const checks = only(spec([`SERVICE_CHECK_SCRIPT=sh -c 'nc -z $SERVICE_IP $SERVICE_PORT' "a b"`])).Checks;
      assert.deepEqual(checks, [{ Args: ['sh', '-c', 'nc -z 192.0.2.1 8080', 'a b'], Interval: '10s' }]);
    });
    it('brackets IPv6 addresses in check URLs and TCP targets', () => {
      const checks = only(
        { ports: { '80/tcp': published(8080) }, env: ['SERVICE_CHECK_HTTP=/h', 'SERVICE_CHECK_TCP=1'] },
        { ip: '2001:db8::5' },
      ).Checks;
      assert.deepEqual(
        checks.map((c) => c.HTTP ?? c.TCP),
        ['http://[2001:db8::5]:8080/h', '[2001:db8::5]:8080'],
      );
    });
    it('drops zero, negative and overflowing durations Consul would refuse the whole service for', () => {
      const result = model(
        spec([
          'SERVICE_CHECK_TCP=1',
          'SERVICE_CHECK_INTERVAL=0',
          'SERVICE_CHECK_TTL=0s',
          'SERVICE_CHECK_TIMEOUT=99999999999h',
        ]),
      );
      assert.deepEqual(result.services[0]!.registration.Checks, [{ TCP: '192.0.2.1:8080', Interval: '10s' }]);
      assert.deepEqual(result.dropped.map((d) => d.key).sort(), [
        'SERVICE_CHECK_INTERVAL',
        'SERVICE_CHECK_TIMEOUT',
        'SERVICE_CHECK_TTL',
      ]);
    });
    it('drops a bad check setting with a reason and keeps the service', () => {
      const result = model(
        spec([
          'SERVICE_CHECK_TTL=soon',
          'SERVICE_CHECK_INITIAL_STATUS=fine',
          'SERVICE_CHECK_SCRIPT=echo "open',
          'SERVICE_CHECK_CMD=/bin/x',
        ]),
      );
      assert.equal(result.services.length, 1);
      assert.deepEqual(result.services[0]!.registration.Checks, []);
      assert.deepEqual(result.dropped.map((d) => d.key).sort(), [
        'SERVICE_CHECK_CMD',
        'SERVICE_CHECK_INITIAL_STATUS',
        'SERVICE_CHECK_SCRIPT',
        'SERVICE_CHECK_TTL',
      ]);
    });
    it('never repeats a refused value in its reason (/services and the logs show reasons)', () => {
      const secret = 'hunter2-s3cr3t';
      const result = model(
        spec([
          `SERVICE_CHECK_INTERVAL=${secret}`,
          `SERVICE_CHECK_INITIAL_STATUS=${secret}`,
          `SERVICE_CHECK_SCRIPT=mysql -p${secret} "`,
          'SERVICE_CHECK_TCP=1',
        ]),
      );
      assert.deepEqual(result.dropped.map((d) => d.key).sort(), [
        'SERVICE_CHECK_INITIAL_STATUS',
        'SERVICE_CHECK_INTERVAL',
        'SERVICE_CHECK_SCRIPT',
      ]);
      assert.doesNotMatch(JSON.stringify(result.dropped), /hunter2/);
      assert.match(
        result.dropped.find((d) => d.key === 'SERVICE_CHECK_INTERVAL')!.reason,
        /^its value \(14 characters, not shown\) is not a duration/,
      );
    });
    it('adds a TTL check fed from Docker HEALTHCHECK, with the current status', () => {
      const result = model({ ports: { '80/tcp': published(8080) }, healthcheck: ['CMD', 'true'], health: 'healthy' });
      const service = result.services[0]!;
      assert.deepEqual(service.health, {
        checkId: 'service:node1:web:80:docker-health',
        status: 'passing',
        output: 'Docker health: healthy',
      });
      assert.deepEqual(service.registration.Checks[0], {
        CheckID: 'service:node1:web:80:docker-health',
        Name: 'Docker HEALTHCHECK',
        Notes: 'Fed by quayside from the container health status',
        TTL: '60s',
        Status: 'passing',
      });
      assert.equal(
        model({ ports: { '80/tcp': published(8080) }, healthcheck: ['NONE'] }).services[0]!.health,
        undefined,
      );
    });
    it('a health status change does not change the spec (it is sent as a check update)', () => {
      const a = model({ ports: { '80/tcp': published(8080) }, healthcheck: ['CMD', 'true'], health: 'healthy' })
        .services[0]!;
      const b = model({ ports: { '80/tcp': published(8080) }, healthcheck: ['CMD', 'true'], health: 'unhealthy' })
        .services[0]!;
      assert.equal(a.registration.Meta.quayside_spec, b.registration.Meta.quayside_spec);
      assert.equal(b.health?.status, 'critical');
    });
  });

  describe('addresses', () => {
    it('published: the detected host address and the host port, never the container IP', () => {
      const service = only({
        ports: { '80/tcp': published(8080) },
        networkMode: 'shop-net',
        networks: { 'shop-net': { IPAddress: '172.18.0.2' } },
      });
      assert.deepEqual([service.Address, service.Port], ['192.0.2.1', 8080]);
    });
    it('published: -ip wins, then a specific binding address', () => {
      assert.equal(
        only({ ports: { '80/tcp': published(8080, '198.51.100.7') } }, { ip: '203.0.113.9' }).Address,
        '203.0.113.9',
      );
      assert.equal(only({ ports: { '80/tcp': published(8080, '198.51.100.7') } }).Address, '198.51.100.7');
    });
    it('published: prefers the IPv4 wildcard binding over the :: one Docker lists beside it', () => {
      assert.equal(
        only({
          ports: {
            '80/tcp': [
              { HostIp: '::', HostPort: '9090' },
              { HostIp: '0.0.0.0', HostPort: '9090' },
            ],
          },
        }).Port,
        9090,
      );
    });
    it('published: skips ports bound to loopback only, and exposed ports not published', () => {
      const result = model({ exposed: ['81/tcp'], ports: { '80/tcp': published(8080, '127.0.0.1'), '81/tcp': null } });
      assert.equal(result.services.length, 0);
      assert.match(result.skipped[0]!.reason, /published on 127\.0\.0\.1 only/);
      assert.match(result.skipped[1]!.reason, /not published on the host/);
    });
    it('published on loopback and on all interfaces: the reachable binding wins', () => {
      const service = only({
        ports: {
          '80/tcp': [
            { HostIp: '127.0.0.1', HostPort: '8080' },
            { HostIp: '0.0.0.0', HostPort: '8081' },
          ],
        },
      });
      assert.deepEqual([service.Address, service.Port], ['192.0.2.1', 8081]);
    });
    it('knows wildcard and loopback addresses however IPv6 spells them', () => {
      for (const ip of ['0:0:0:0:0:0:0:0', '[::]', '0.0.0.0']) assert.equal(isWildcard(ip), true, ip);
      for (const ip of ['0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '127.1.2.3', '::1'])
        assert.equal(isLoopback(ip), true, ip);
      for (const ip of ['::ffff:10.0.0.1', '2001:db8::1', '10.0.0.1', '::2'])
        assert.equal(isLoopback(ip) || isWildcard(ip), false, ip);
      const result = model(
        { ports: { '80/tcp': published(8080) }, labels: { addr: '0:0:0:0:0:0:0:0' } },
        { useIpFromLabel: 'addr' },
      );
      assert.equal(result.services.length, 0);
    });
    it('never registers 0.0.0.0 or a loopback host address it did not get explicitly', () => {
      assert.match(
        model({ ports: { '80/tcp': published(8080) } }, { hostAddress: undefined }).skipped[0]!.reason,
        /no address for this host: set -ip/,
      );
      assert.match(
        model({ ports: { '80/tcp': published(8080) } }, { hostAddress: '127.0.1.1' }).skipped[0]!.reason,
        /loopback/,
      );
      assert.equal(
        only({ ports: { '80/tcp': published(8080) } }, { ip: '127.0.0.1' }).Address,
        '127.0.0.1',
        'explicit -ip may be loopback',
      );
    });
    it('-internal: the container address and port, exposed ports included', () => {
      const service = only(
        { exposed: ['7000/tcp'], networks: { bridge: { IPAddress: '172.17.0.4' } } },
        { internal: true, ip: '203.0.113.9' },
      );
      assert.deepEqual([service.Address, service.Port], ['172.17.0.4', 7000]);
    });
    it('-internal: SERVICE_NETWORK picks the network; the default choice is deterministic', () => {
      const networks = { zeta: { IPAddress: '10.9.0.2' }, alpha: { IPAddress: '10.1.0.2' } };
      assert.equal(
        only({ exposed: ['80/tcp'], networkMode: 'zeta', networks }, { internal: true }).Address,
        '10.9.0.2',
      );
      assert.equal(
        only(
          { exposed: ['80/tcp'], networkMode: 'zeta', networks, labels: { SERVICE_80_NETWORK: 'alpha' } },
          { internal: true },
        ).Address,
        '10.1.0.2',
      );
      assert.equal(
        only({ exposed: ['80/tcp'], networkMode: 'other', networks }, { internal: true }).Address,
        '10.1.0.2',
      );
      assert.match(
        model({ exposed: ['80/tcp'], networks, env: ['SERVICE_NETWORK=missing'] }, { internal: true }).skipped[0]!
          .reason,
        /not on that network/,
      );
    });
    it('-internal: an IPv6-only network gives the IPv6 address', () => {
      assert.equal(
        only({ exposed: ['80/tcp'], networks: { v6: { GlobalIPv6Address: '2001:db8::2' } } }, { internal: true })
          .Address,
        '2001:db8::2',
      );
    });
    it('host network: exposed ports on the host address, published or internal', () => {
      for (const internal of [false, true]) {
        const service = only({ exposed: ['9000/tcp'], networkMode: 'host', networks: { host: {} } }, { internal });
        assert.deepEqual([service.Address, service.Port], ['192.0.2.1', 9000]);
      }
    });
    it("none network and another container's network: nothing, with the reason", () => {
      assert.match(model({ exposed: ['82/tcp'], networkMode: 'none' }).skipped[0]!.reason, /network none/);
      assert.match(
        model({ exposed: ['82/tcp'], networkMode: 'container:abcdef1234567890' }).skipped[0]!.reason,
        /shares the network of abcdef123456/,
      );
    });
    it('-useIpFromLabel takes the address from the label (CIDR suffix dropped)', () => {
      assert.equal(
        only(
          { ports: { '80/tcp': published(8080) }, labels: { 'com.example.ip': '10.20.0.3/24' } },
          { useIpFromLabel: 'com.example.ip' },
        ).Address,
        '10.20.0.3',
      );
      const v6 = only(
        { ports: { '80/tcp': published(8080) }, labels: { ip: ' [2001:DB8:0::5] ' }, env: ['SERVICE_CHECK_HTTP=/h'] },
        { useIpFromLabel: 'ip' },
      );
      assert.deepEqual(
        [v6.Address, v6.Checks[0]!.HTTP],
        ['2001:db8::5', 'http://[2001:db8::5]:8080/h'],
        'brackets and spaces dropped, IPv6 canonical',
      );
    });
  });

  describe('container state', () => {
    it('a stopped container has no services', () =>
      assert.equal(model({ ports: { '80/tcp': published(80) }, running: false }).services.length, 0));
    it('a paused container: maintenance, deregistered or kept, by setting', () => {
      const paused: InspectSpec = { ports: { '80/tcp': published(80) }, paused: true };
      assert.equal(model(paused).services[0]!.maintenance, true);
      assert.equal(model(paused, { pausedServices: 'deregister' }).services.length, 0);
      assert.equal(model(paused, { pausedServices: 'keep' }).services[0]!.maintenance, false);
    });
  });
});

describe('registrator host address detection', () => {
  it('an IPv6-only host: its global IPv6 address, never link-local or loopback', () => {
    const v6 = (address: string, internal = false) => ({
      address,
      family: 'IPv6' as const,
      internal,
      netmask: 'ffff:ffff:ffff:ffff::',
      mac: '00:00:00:00:00:00',
      cidr: null,
      scopeid: 0,
    });
    const interfaces = { lo: [v6('::1', true)], eth0: [v6('fe80::1'), v6('2001:db8::7')] };
    assert.equal(detectHostAddress({}, '/nonexistent', interfaces), '2001:db8::7');
  });
  it('takes the swarm node address when the engine is in a swarm', () => {
    assert.equal(detectHostAddress({ Swarm: { NodeAddr: '198.51.100.4' } }), '198.51.100.4');
  });
  it("never takes a loopback or wildcard swarm address; otherwise the default-route interface's IPv4 address", () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-route-'));
    try {
      const interfaces = networkInterfaces();
      const external = Object.entries(interfaces).find(([, addresses]) =>
        (addresses ?? []).some((a) => a.family === 'IPv4' && !a.internal),
      );
      const routeFile = join(dir, 'route');
      const header = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n';
      writeFileSync(
        routeFile,
        external ? `${header}${external[0]}\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n` : header,
      );
      const found = detectHostAddress({ Swarm: { NodeAddr: '127.0.0.1' } }, routeFile);
      if (external) assert.equal(found, external[1]!.find((a) => a.family === 'IPv4' && !a.internal)!.address);
      else assert.equal(found, undefined);
      assert.notEqual(detectHostAddress({ Swarm: { NodeAddr: '0.0.0.0' } }, join(dir, 'missing')), '0.0.0.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
