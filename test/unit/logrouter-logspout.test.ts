/**
 * What a configuration written for logspout does here: its templates (as its README writes them),
 * SYSLOG_DATA / SYSLOG_PRIORITY / SYSLOG_TIMESTAMP, `${VAR}` in route URIs, PORT and
 * HTTP_BIND_ADDRESS; and that no route secret is ever shown.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { checkRoute } from '../../agents/logrouter/adapters';
import { frameForStream, syslogSettings } from '../../agents/logrouter/adapters/syslog-format';
import { formatGoTime, GoTime } from '../../agents/logrouter/go-time';
import type { ContainerMeta, LogMessage } from '../../agents/logrouter/message';
import { describeRoute, parseRouteUri, routeFromJson, routeToJson } from '../../agents/logrouter/route';
import { compileByteTemplate, compileTemplate } from '../../agents/logrouter/template';
import { tlsOptions } from '../../agents/logrouter/transports/tls-options';
import { runCli } from '../support/cli';

const container: ContainerMeta = {
  id: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
  name: 'shop.web.1',
  image: 'shop/web:1.2',
  hostname: 'abcdef012345',
  pid: 4242,
  labels: { team: 'shop', 'com.docker.compose.service': 'web', html: '<b>&' },
  tty: false,
};

function message(data: string | Buffer, source: 'stdout' | 'stderr' = 'stdout'): LogMessage {
  return {
    container,
    source,
    ts: '2026-11-27T20:20:15.620573110Z',
    data: Buffer.isBuffer(data) ? data : Buffer.from(data),
    done: () => undefined,
  };
}

describe("logrouter: logspout's templates", () => {
  const render = (text: string, m = message('hello "x"')) => compileTemplate(text, 'RAW_FORMAT')(m);

  it("renders the README's raw format examples as logspout does", () => {
    const full = render(
      '{ "container" : "{{ .Container.Name }}", "labels": {{ toJSON .Container.Config.Labels }}, "timestamp": "{{ .Time.Format "2006-01-02T15:04:05Z07:00" }}", "source" : "{{ .Source }}", "message": {{ toJSON .Data }} }',
    );
    assert.deepEqual(JSON.parse(full), {
      container: '/shop.web.1',
      labels: { 'com.docker.compose.service': 'web', html: '<b>&', team: 'shop' },
      timestamp: '2026-11-27T20:20:15Z',
      source: 'stdout',
      message: 'hello "x"',
    });
    assert.match(full, /"html":"\\u003cb\\u003e\\u0026"/, 'encoding/json escapes <, > and &');
    assert.match(
      full,
      /^\{ "container" : "\/shop\.web\.1", "labels": \{"com\.docker\.compose\.service":"web","html"/,
      'keys sorted as Go marshals maps',
    );
  });

  it('prints the short ID, splits the name, indexes labels and runs pipelines', () => {
    assert.equal(render('{{ printf "%.12s" .Container.ID }}'), 'abcdef012345');
    assert.equal(
      render('{{ index (.ContainerNameSplitN "." 2) 0 }}|{{ index (.ContainerNameSplitN "." 2) 1 }}'),
      'shop|web.1',
    );
    assert.equal(render('{{ .ContainerNameSplitN "." -1 }}'), '[shop web 1]');
    assert.equal(
      render('{{ index .Container.Config.Labels "team" }}/{{ .Container.Config.Labels.team }}'),
      'shop/shop',
    );
    assert.equal(render('{{ .Data | toJSON }}'), '"hello \\"x\\""');
    assert.equal(
      render('{{ printf "%-6s|%5d|%q" .Source .Container.State.Pid .ContainerName }}'),
      'stdout| 4242|"shop.web.1"',
    );
    assert.equal(render('  {{- .Source -}}  !'), 'stdout!');
    assert.equal(render('{{.Time}}'), '2026-11-27 20:20:15.62057311 +0000 UTC', "Go's time.Time String()");
    assert.equal(render('{{ printf "%d" .Time.Unix }}'), '1795810815');
    assert.equal(render('{{.Container.Config.Labels}}'), 'map[com.docker.compose.service:web html:<b>& team:shop]');
  });

  it("formats .Time with Go's reference layouts", () => {
    const t = new GoTime('2026-03-05T07:08:09.120000000Z');
    assert.equal(formatGoTime(t, '2006-01-02T15:04:05.999999999Z07:00'), '2026-03-05T07:08:09.12Z');
    assert.equal(formatGoTime(t, '2006-01-02T15:04:05.000000Z0700'), '2026-03-05T07:08:09.120000Z');
    assert.equal(formatGoTime(t, 'Jan _2 15:04:05'), 'Mar  5 07:08:09');
    assert.equal(formatGoTime(t, 'Monday, 02-Jan-06 3:04PM MST -07:00'), 'Thursday, 05-Mar-26 7:08AM UTC +00:00');
    assert.equal(formatGoTime(t, '2006.002 .000'), '2026.064 .120');
  });

  it('keeps the bytes of {{.Data}} in byte templates, also next to other fields', () => {
    const bytes = Buffer.from([0x66, 0xff, 0x0a]);
    assert.deepEqual(compileByteTemplate('{{.Data}}', 'RAW_FORMAT')(message(bytes)), bytes);
    assert.deepEqual(
      compileByteTemplate('{{ .ContainerName }} {{.Data}}\n', 'RAW_FORMAT')(message(bytes)),
      Buffer.concat([Buffer.from('shop.web.1 '), bytes, Buffer.from('\n')]),
    );
  });

  it('refuses, at start and by name, what it cannot run', () => {
    assert.throws(
      () => compileTemplate('{{.Labels}}', 'SYSLOG_TAG'),
      /SYSLOG_TAG: unknown template field \{\{\.Labels\}\}/,
    );
    assert.throws(
      () => compileTemplate('{{ json .Data }}', 'RAW_FORMAT'),
      /RAW_FORMAT: unknown function json \(known: toJSON/,
    );
    assert.throws(() => compileTemplate('{{ .Time.Format }}', 'RAW_FORMAT'), /\.Time\.Format takes 1 argument/);
    assert.throws(() => compileTemplate('{{ .Data', 'RAW_FORMAT'), /unclosed action/);
    assert.throws(() => compileTemplate('{{ .Source .Data }}', 'RAW_FORMAT'), /\.Source is not a function/);
  });
});

describe('logrouter: SYSLOG_DATA, SYSLOG_PRIORITY, SYSLOG_TIMESTAMP', () => {
  it('applies them to the syslog message as logspout does', () => {
    const settings = syslogSettings(
      {},
      {
        SYSLOG_DATA: '{{ .Source }}: {{ .Data }}',
        SYSLOG_PRIORITY: '{{ printf "%d" .Priority }}',
        SYSLOG_TIMESTAMP: '{{ .Time.Format "2006-01-02T15:04:05.000Z07:00" }}',
        SYSLOG_STRUCTURED_DATA: 'meta@32473 short="{{ printf "%.12s" .Container.ID }}"',
      },
    );
    assert.equal(
      frameForStream(settings, [message('hi')]).toString(),
      '<14>1 2026-11-27T20:20:15.620Z abcdef012345 shop.web.1 4242 - [meta@32473 short="abcdef012345"] stdout: hi\n',
    );
    const fixed = syslogSettings(
      {},
      { SYSLOG_PRIORITY: '134', SYSLOG_FORMAT: 'rfc3164', SYSLOG_TIMESTAMP: '{{ .Time.Format "Jan _2 15:04:05" }}' },
    );
    assert.equal(
      frameForStream(fixed, [message('hi', 'stderr')]).toString(),
      '<134>Nov 27 20:20:15 abcdef012345 shop.web.1[4242]: hi\n',
    );
  });

  it('keeps the bytes of the line in SYSLOG_DATA and refuses a priority that is not a PRI', () => {
    const settings = syslogSettings({}, { SYSLOG_DATA: '>{{.Data}}' });
    const bytes = frameForStream(settings, [message(Buffer.from([0xff]))]);
    assert.deepEqual(bytes.subarray(-3), Buffer.from([0x3e, 0xff, 0x0a]));
    assert.throws(
      () => syslogSettings({}, { SYSLOG_PRIORITY: 'info' }),
      /SYSLOG_PRIORITY\) must give a number from 0 to 191, not "info"/,
    );
    assert.throws(() => syslogSettings({}, { SYSLOG_PRIORITY: '192' }), /SYSLOG_PRIORITY/);
  });
});

describe("logrouter: logspout's other settings", () => {
  it('takes multiline+ schemes as the multiline option of the wrapped route', () => {
    const spec = parseRouteUri('multiline+syslog+tcp://logs:514?filter.name=db');
    assert.equal(spec.adapter, 'syslog+tcp');
    assert.equal(spec.options.multiline, 'true');
  });

  it('takes the HOSTNAME from /etc/host_hostname before SYSLOG_HOSTNAME (the Swarm mount)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'qs-lrhost-')), 'host_hostname');
    writeFileSync(file, 'node-7\n');
    const settings = syslogSettings({}, { SYSLOG_HOSTNAME: 'ignored' }, file);
    assert.match(frameForStream(settings, [message('x')]).toString(), /^<14>1 \S+ node-7 /);
    assert.match(
      frameForStream(syslogSettings({ hostname: 'route' }, {}, file), [message('x')]).toString(),
      /^<14>1 \S+ route /,
      'the route option wins',
    );
    assert.match(
      frameForStream(syslogSettings({}, {}, join(file, 'absent')), [message('x')]).toString(),
      /^<14>1 \S+ abcdef012345 /,
    );
  });

  it('adds LOGSPOUT_TLS_CA_CERTS to the system CAs unless LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS, and hardens on request', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'qs-lrtls-')), 'ca.pem');
    writeFileSync(ca, rootCertificates[0]!);
    assert.equal(
      (tlsOptions({}, { LOGSPOUT_TLS_CA_CERTS: ca }, 'logs').ca as unknown[]).length,
      rootCertificates.length + 1,
    );
    assert.equal(
      (tlsOptions({}, { LOGSPOUT_TLS_CA_CERTS: ca, LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS: 'true' }, 'logs').ca as unknown[])
        .length,
      1,
    );
    assert.equal(
      (tlsOptions({ 'tls.ca': ca }, {}, 'logs').ca as unknown[]).length,
      1,
      "a route's own CA is the only one",
    );
    assert.throws(() => tlsOptions({}, { LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS: 'true' }, 'logs'), /leaves no trusted CA/);
    assert.match(String(tlsOptions({}, { LOGSPOUT_TLS_HARDENING: 'true' }, 'logs').ciphers), /^ECDHE-/);
  });
});

describe("logrouter: logspout users' routes", () => {
  it("takes the route URIs of logspout's README, its adapters and the migration table as they are", () => {
    for (const uri of [
      'syslog://logs.example:514',
      'syslog+tls://logs.papertrailapp.com:55555',
      'syslog+tcp://logs.example:514?filter.name=*_db&append_tag=.db',
      'syslog+udp://logs.example:514?filter.sources=stdout%2Cstderr&filter.labels=team:shop%2Ctier:web&filter.id=3b6ba57db54a',
      'syslog+tcp://logs-01.loggly.com:514?structured_data=0b1d4c9e-1234@41058%20tag%3D%22web%22',
      'raw://logs.example:5000',
      'raw+tcp://logs.example:5000',
      'tcp://logs.example:5000',
      'udp://logs.example:5000',
      'tls://logs.example:5000',
      'multiline+raw+tcp://logs.example:5000',
      'multiline+syslog+tls://logs.example:6514?filter.name=web-*',
      'redis://redis.example?key=logstash&password=s3cret',
      'redis://:s3cret@redis.example:6379/logstash',
    ]) {
      assert.doesNotThrow(() => checkRoute(parseRouteUri(uri)), uri);
    }
    // logspout's /routes JSON, as its API answers it and as its routes files store it.
    const stored = {
      id: '3b6ba57db54a',
      adapter: 'syslog+tcp',
      address: 'logs.example:514',
      filter_name: '*_db',
      filter_sources: ['stdout'],
      filter_labels: ['team:shop'],
      options: { append_tag: '.db', structured_data: 'token@41058' },
    };
    assert.doesNotThrow(() => checkRoute(routeFromJson(stored, () => 'unused')));
  });
});

describe('logrouter: route URIs with environment variables', () => {
  it('expands $NAME and ${NAME} as logspout does, keeping the ID of the URI as written', () => {
    const env = { LOGHOST: 'logs.example', LOGPORT: '5140', KEY: 'abc' };
    const spec = parseRouteUri('syslog+tcp://${LOGHOST}:$LOGPORT?header.X-Api-Key=${KEY}&append_tag=.x$', env);
    assert.equal(spec.address, 'logs.example:5140');
    assert.equal(spec.options['header.X-Api-Key'], 'abc');
    assert.equal(spec.options.append_tag, '.x$', 'a $ without a name stays');
    assert.equal(
      spec.id,
      parseRouteUri('syslog+tcp://${LOGHOST}:$LOGPORT?header.X-Api-Key=${KEY}&append_tag=.x$', {
        ...env,
        LOGHOST: 'other',
      }).id,
    );
    assert.throws(() => parseRouteUri('syslog+tcp://${NOPE}:514', env), /environment variable NOPE, which is not set/);
  });

  it('expands them in ROUTE_URIS and arguments, and exits 2 naming an unset one', async () => {
    const result = await runCli(
      ['logrouter', 'syslog+tcp://${QS_UNSET_LOGHOST}:514', '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrenv-'))],
      { DOCKER_HOST: 'unix:///nonexistent.sock' },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /QS_UNSET_LOGHOST, which is not set/);
  });

  it('refuses a misspelt route option in ROUTE_URIS as in arguments: exit 2 naming it', async () => {
    const result = await runCli(['logrouter', '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrenv-'))], {
      DOCKER_HOST: 'unix:///nonexistent.sock',
      ROUTE_URIS: 'stdout://,syslog+tcp://logs.example:514?framming=octet-counted&password=s3cret',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /route syslog\+tcp:\/\/logs\.example:514 \(id [0-9a-f]{12}\): unknown options framming, password for syslog\+tcp/,
    );
    assert.doesNotMatch(result.stderr, /s3cret/);
  });

  it('refuses PORT and HTTP_BIND_ADDRESS at start, naming them and --listen', async () => {
    const result = await runCli(
      ['logrouter', 'stdout://', '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrenv-')), '--listen', '127.0.0.1:0'],
      { DOCKER_HOST: 'unix:///nonexistent.sock', PORT: '8000', HTTP_BIND_ADDRESS: '127.0.0.1' },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /PORT=8000, HTTP_BIND_ADDRESS=127\.0\.0\.1: logspout's listen address is not read by quayside; set --listen/,
    );
  });
});

describe('logrouter: route secrets are never shown', () => {
  it('masks passwords, credential headers and tokens in /routes JSON, keeping them for the route itself', () => {
    const spec = parseRouteUri(
      'https://alice:pa55@logs.example:8443/in?header.Authorization=Bearer%20t0k&header.X-Api-Key=k3y&header.DD-API-KEY=dd&token=t&tls.key=/etc/key.pem&format=json',
    );
    assert.equal(spec.address, 'logs.example:8443');
    assert.equal(spec.options.password, 'pa55');
    const shown = JSON.stringify(routeToJson(spec));
    for (const secret of ['pa55', 't0k', 'k3y', '"dd"', '"t"'])
      assert.ok(!shown.includes(secret), `${secret} in ${shown}`);
    assert.deepEqual(routeToJson(spec).options, {
      'header.Authorization': '***',
      'header.X-Api-Key': '***',
      'header.DD-API-KEY': '***',
      token: '***',
      'tls.key': '/etc/key.pem',
      format: 'json',
      username: 'alice',
      password: '***',
    });
    assert.equal(routeToJson(spec, { revealSecrets: true }).options!.password, 'pa55', 'the stored route keeps it');
    assert.equal(routeToJson(parseRouteUri('redis://:s3cret@127.0.0.1:6379/logs')).options!.password, '***');
  });

  it('names a bad route URI without its password or query', () => {
    assert.throws(
      () => parseRouteUri('https://bob:s3cret@logs:8443/in?filter.nope=1&header.X-Api-Key=k3y'),
      (error: Error) => {
        assert.match(error.message, /route "https:\/\/bob:\*\*\*@logs:8443\/\*\*\*": unknown filter filter.nope/);
        assert.doesNotMatch(error.message, /s3cret|k3y/);
        return true;
      },
    );
  });

  it('masks the path of an HTTP route, where Loggly and Sumo Logic put the token, and every header but a few plain ones', () => {
    const sumo = 'https://collectors.example/receiver/v1/http/ZaVnC4dhaV2SECRETCODE';
    const spec = parseRouteUri(
      `${sumo}?header.X-Honeycomb-Team=HCKEY123&header.Content-Type=text/plain&header.accept=*/*&header.User-Agent=me`,
    );
    const json = routeToJson(spec);
    assert.equal(json.path, '/***');
    assert.deepEqual(json.options, {
      'header.X-Honeycomb-Team': '***',
      'header.Content-Type': 'text/plain',
      'header.accept': '*/*',
      'header.User-Agent': 'me',
    });
    assert.equal(routeToJson(spec, { revealSecrets: true }).path, '/receiver/v1/http/ZaVnC4dhaV2SECRETCODE');
    assert.equal(describeRoute(spec), `https://collectors.example/*** (id ${spec.id})`);
    assert.equal(routeToJson(parseRouteUri('redis://127.0.0.1:6379/logs')).path, '/logs', 'a Redis key is no secret');
    assert.throws(
      () => parseRouteUri(`${sumo}?filter.nope=1`),
      (error: Error) => {
        assert.match(error.message, /route "https:\/\/collectors\.example\/\*\*\*": unknown filter filter.nope/);
        return true;
      },
    );
  });

  it('keeps the path of an HTTP route out of the start-up error about it', async () => {
    const result = await runCli(['logrouter', '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrenv-'))], {
      DOCKER_HOST: 'unix:///nonexistent.sock',
      ROUTE_URIS: 'https://collectors.example/receiver/v1/http/ZaVnC4dhaV2SECRETCODE?bogus=1',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /route https:\/\/collectors\.example\/\*\*\* \(id [0-9a-f]{12}\): unknown option bogus/,
    );
    assert.doesNotMatch(result.stderr, /SECRETCODE/);
  });

  it('takes credentials out of a JSON route address, so logs and /readyz never show them', () => {
    const spec = routeFromJson({ adapter: 'https', address: 'bob:hunter2@hooks.example:443', path: '/in' }, () => 'r1');
    assert.equal(spec.address, 'hooks.example:443');
    assert.deepEqual(spec.options, { username: 'bob', password: 'hunter2' });
    assert.ok(!JSON.stringify(routeToJson(spec)).includes('hunter2'));
  });
});
