/**
 * deploy/: the Dockerfile, Compose file, Swarm stack, Kubernetes DaemonSets, Nomad job, Prometheus
 * configurations and Grafana dashboard, checked against one table of what each agent needs
 * (test/support/deploy-agents.ts): every agent present, only the mounts it needs, read-only where
 * they should be, nothing privileged, each mount's reason written beside it, ports that agree.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSeq, parseAllDocuments, parseDocument, type Document, type YAMLMap } from 'yaml';
import { AGENTS } from '../../agents';
import { FAMILIES, METRIC_GROUPS } from '../../agents/stats-exporter/families';
import { STATS_EXPORTER_NODE_FLAGS } from '../../agents/stats-exporter/node-flags';
import { eventStreamMetrics } from '../../shared/docker/metrics';
import { createMetricsRegistry } from '../../shared/ops/metrics';
import { parseHostPort } from '../../shared/config/options';
import { runtimeOptionsFor } from '../../shared/runtime/common-options';
import {
  AGENT_DEPLOYMENTS,
  DOCKER_DATA_ROOT,
  DOCKER_SOCKET,
  envName,
  HOST_CGROUP,
  HOST_PROC,
  STATE_DIR,
  type AgentDeployment,
} from '../support/deploy-agents';
import { blocksOf, parseHcl, type HclBlock, type HclValue } from '../support/hcl';

const ROOT = join(__dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => value as Json;
const list = (value: unknown): unknown[] => (value ?? []) as unknown[];

/** The host paths an agent may mount, and whether each must be read-only. */
function expectedBinds(agent: AgentDeployment): Map<string, { target: string; readOnly: boolean }> {
  const binds = new Map([[DOCKER_SOCKET, { target: DOCKER_SOCKET, readOnly: true }]]);
  if (agent.hostCgroupAndProc) {
    binds.set('/sys/fs/cgroup', { target: HOST_CGROUP, readOnly: true });
    binds.set('/proc', { target: HOST_PROC, readOnly: true });
  }
  if (agent.writableLayers) binds.set(DOCKER_DATA_ROOT, { target: DOCKER_DATA_ROOT, readOnly: true });
  return binds;
}

/** The groups an agent joins besides its own: the socket's, and root's to reach the writable layers. */
function extraGroups<T>(agent: AgentDeployment, socketGroup: T, rootGroup: T): T[] {
  return [socketGroup, ...(agent.writableLayers ? [rootGroup] : [])];
}

/** The compose and stack files name the data root by a variable whose default is Docker's. */
const withDefaultDataRoot = (text: string): string =>
  text.replaceAll('${DOCKER_DATA_ROOT:-/var/lib/docker}', DOCKER_DATA_ROOT);

/** Every item of the YAML sequence at `path` has a comment before it (the reason for that mount). */
function assertEachCommented(doc: Document, path: (string | number)[], what: string): void {
  const seq = doc.getIn(path, true);
  assert.ok(isSeq(seq), `${what}: no list at ${path.join('.')}`);
  seq.items.forEach((item, i) => {
    const comment =
      (item as { commentBefore?: string }).commentBefore ??
      (i === 0 ? (seq as { commentBefore?: string }).commentBefore : undefined);
    assert.ok(
      comment?.trim(),
      `${what}: mount ${i + 1} (${JSON.stringify((item as { toJSON(): unknown }).toJSON())}) has no comment saying why`,
    );
  });
}

describe('deploy: the agent table', () => {
  it('has a row for every agent of the command, and no other', () => {
    assert.deepEqual(AGENT_DEPLOYMENTS.map((a) => a.name).sort(), AGENTS.map((a) => a.name).sort());
  });

  it('uses each agent default port inside the container where it has a network of its own', () => {
    for (const row of AGENT_DEPLOYMENTS.filter((a) => !a.hostNetwork)) {
      assert.equal(row.containerPort, AGENTS.find((a) => a.name === row.name)!.listenPort ?? 9477, row.name);
    }
    const hostPorts = AGENT_DEPLOYMENTS.map((a) => a.hostPort);
    assert.equal(new Set(hostPorts).size, hostPorts.length, 'one host port per agent');
  });

  // A misspelt variable is silently ignored by the agent: every one a manifest sets must be one the
  // agent declares (or, in Kubernetes, one its args read as $(NAME)).
  for (const agent of AGENTS) {
    it(`${agent.name}: every environment variable the manifests set is one the agent reads`, () => {
      const declared = new Set(
        Object.values({ ...runtimeOptionsFor(agent.listenPort), ...agent.options })
          .map((d) => d.env)
          .filter(Boolean),
      );
      const own = AGENT_DEPLOYMENTS.find((a) => a.name === agent.name)?.ownContainerEnv ?? {};
      for (const [manifest, { values, args }] of Object.entries(manifestEnvironments(agent.name))) {
        const names = Object.keys(values);
        assert.ok(names.length > 0, `${manifest}: no environment for ${agent.name}`);
        for (const name of names) {
          assert.ok(
            declared.has(name) || args.includes(`$(${name})`) || name in own,
            `${manifest} sets ${name} for ${agent.name}, which reads no such variable`,
          );
        }
        for (const [name, value] of Object.entries(own))
          assert.equal(values[name], value, `${manifest}: ${agent.name}'s own container sets ${name}=${value}`);
      }
    });
  }

  // Prometheus scrapes every agent from outside its container (or from another node): each must
  // listen on all interfaces there, though the agents alone default to loopback.
  for (const row of AGENT_DEPLOYMENTS) {
    it(`${row.name}: listens on all interfaces at the port Prometheus scrapes, in every manifest`, () => {
      const agent = AGENTS.find((a) => a.name === row.name)!;
      const fallback = runtimeOptionsFor(agent.listenPort).listen.default!;
      for (const [manifest, { values }] of Object.entries(manifestEnvironments(row.name))) {
        const given =
          values.QUAYSIDE_LISTEN === undefined
            ? undefined
            : String(values.QUAYSIDE_LISTEN).replace(/^\$\{\w+:-(.*)\}$/, '$1');
        const address = given === undefined ? fallback : parseHostPort(given);
        assert.ok(
          ['0.0.0.0', '::'].includes(address.host),
          `${manifest}: ${row.name} listens on ${address.host}, which Prometheus cannot reach`,
        );
        assert.equal(
          address.port,
          manifest === 'swarm-stack.yaml' ? row.hostPort : row.containerPort,
          `${manifest}: ${row.name}'s port`,
        );
      }
    });
  }
});

/** The environment each manifest sets for one agent (literal values; others as given), and its arguments. */
function manifestEnvironments(agent: string): Record<string, { values: Record<string, unknown>; args: string }> {
  const compose = obj(obj(obj(parseDocument(read('compose.yaml')).toJS()).services)[agent]);
  const stack = obj(
    obj(obj(parseDocument(read('swarm-stack.yaml'), { version: '1.1' }).toJS({ maxAliasCount: -1 })).services)[agent],
  );
  const daemonSet = parseAllDocuments(read('kubernetes/quayside.yaml'))
    .map((d) => obj(d.toJS()))
    .find((o) => o.kind === 'DaemonSet' && obj(o.metadata).name === `quayside-${agent}`);
  const [container] = list(obj(obj(obj(daemonSet?.spec).template).spec).containers).map(obj);
  const [job] = blocksOf(parseHcl(read('nomad/quayside.nomad.hcl')), 'job', 'quayside');
  const [task] = blocksOf(blocksOf(job!, 'group', agent)[0]!, 'task', agent);
  return {
    'compose.yaml': { values: obj(compose.environment), args: '' },
    'swarm-stack.yaml': { values: obj(stack.environment), args: '' },
    'kubernetes/quayside.yaml': {
      values: Object.fromEntries(
        list(container?.env)
          .map(obj)
          .map((e) => [String(e.name), e.value ?? e.valueFrom]),
      ),
      args: JSON.stringify([container?.command, container?.args]),
    },
    'nomad/quayside.nomad.hcl': { values: { ...blocksOf(task!, 'env')[0]?.attributes }, args: '' },
  };
}

describe('deploy/Dockerfile', () => {
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
  const froms = instructions.map((ins, i) => ({ ...ins, i })).filter((ins) => ins.keyword === 'FROM');
  const finalStage = instructions.slice(froms.at(-1)!.i);
  const inFinal = (keyword: string) => finalStage.filter((ins) => ins.keyword === keyword).map((ins) => ins.args);

  it('takes the base image as a build argument, an official Node 24 LTS slim image by default', () => {
    const arg = instructions.find((ins) => ins.keyword === 'ARG' && ins.args.startsWith('BASE_IMAGE='));
    assert.ok(arg && instructions.indexOf(arg) < froms[0]!.i, 'ARG BASE_IMAGE before the first FROM');
    assert.match(arg.args, /^BASE_IMAGE=node:24(\.[\d.]+)?-(bookworm-|bullseye-)?slim$/);
    assert.ok(
      froms.every((f) => f.args.startsWith('${BASE_IMAGE}')),
      'every stage is built on it',
    );
  });

  it('is multi-stage and ships only production dependencies and the compiled code', () => {
    assert.ok(froms.length >= 2);
    const buildRuns = instructions
      .slice(0, froms.at(-1)!.i)
      .filter((ins) => ins.keyword === 'RUN')
      .map((ins) => ins.args)
      .join('\n');
    assert.match(buildRuns, /npm prune --omit=dev|npm ci [^\n]*--omit=dev/);
    const copies = inFinal('COPY');
    assert.ok(
      copies.some((c) => /--from=build \S*node_modules/.test(c)),
      'node_modules from the build stage',
    );
    assert.ok(
      copies.every((c) => c.startsWith('--from=')),
      `the final stage copies nothing from the context: ${copies.join('; ')}`,
    );
    assert.equal(
      inFinal('RUN').some((r) => /npm (ci|install)/.test(r)),
      false,
    );
  });

  it('runs as a non-root user whose docker group id is a build argument', () => {
    const user = inFinal('USER');
    assert.equal(user.length, 1);
    const uidArg = inFinal('ARG').find((a) => a.startsWith('QUAYSIDE_UID='));
    assert.equal(user[0], '${QUAYSIDE_UID}');
    assert.ok(uidArg && Number(uidArg.split('=')[1]) > 0);
    assert.ok(inFinal('ARG').some((a) => /^DOCKER_GID=\d+$/.test(a)));
    assert.match(inFinal('RUN').join('\n'), /\$\{DOCKER_GID\}/);
  });

  it('checks /healthz with the compiled health check, and starts with `quayside`', () => {
    const [healthcheck] = inFinal('HEALTHCHECK');
    assert.ok(healthcheck, 'HEALTHCHECK');
    assert.doesNotMatch(healthcheck, /--start-period=0s/, 'Docker 20.10 rejects it');
    const script = /"\/app\/dist\/(cli\/healthcheck)\.js"/.exec(healthcheck)?.[1];
    assert.ok(
      script && statSync(join(ROOT, `${script}.ts`)).isFile(),
      `${healthcheck} runs a compiled source of this repo`,
    );
    assert.deepEqual(JSON.parse(inFinal('ENTRYPOINT')[0]!), ['quayside']);
  });

  it('carries every OCI label `label-inspector check --require oci` asks for; the provenance ones from build arguments', () => {
    const check = (...buildArgs: string[]) => {
      const run = spawnSync(
        process.execPath,
        [
          join(ROOT, 'dist', 'cli', 'main.js'),
          'label-inspector',
          'check',
          '--require',
          'oci',
          '--format',
          'json',
          '--dockerfile',
          join(DEPLOY, 'Dockerfile'),
          ...buildArgs.flatMap((arg) => ['--build-arg', arg]),
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(run.status, 0, run.stdout + run.stderr);
      return (
        JSON.parse(run.stdout) as {
          findings: Array<{ rule: string; severity: string; subject?: string; message: string }>;
        }
      ).findings;
    };
    const given = check(
      'CREATED=2026-12-03T12:00:00Z',
      'REVISION=0123456789abcdef',
      'SOURCE=https://example.org/quayside.git',
    );
    assert.deepEqual(given, []);
    // Without them the build says they are empty (info), and nothing is missing.
    const bare = check();
    assert.deepEqual(
      bare.map((f) => f.severity),
      ['info', 'info', 'info'],
    );
    assert.ok(
      bare.every((f) => /org\.opencontainers\.image\.(created|revision|source)/.test(f.message)),
      JSON.stringify(bare),
    );
  });
});

describe('deploy: the stats-exporter memory flags', () => {
  it('are V8 flags this Node.js runs with, which NODE_OPTIONS cannot carry (so the manifests set the entrypoint)', () => {
    const run = spawnSync(
      process.execPath,
      [...STATS_EXPORTER_NODE_FLAGS, '-e', 'process.stdout.write(process.execArgv.slice(0, 2).join(" "))'],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, STATS_EXPORTER_NODE_FLAGS.join(' '));
    const viaEnv = spawnSync(process.execPath, ['-e', '0'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: STATS_EXPORTER_NODE_FLAGS.join(' ') },
    });
    assert.notEqual(viaEnv.status, 0);
    assert.deepEqual(
      AGENT_DEPLOYMENTS.filter((a) => a.entrypoint).map((a) => a.name),
      ['stats-exporter'],
      'only the exporter: the others keep V8 defaults',
    );
  });
});

describe('deploy/compose.yaml', () => {
  const doc = parseDocument(read('compose.yaml'));
  const services = obj(obj(doc.toJS()).services);

  it('has every agent, and Consul, a syslog server, Prometheus and Grafana for the trial', () => {
    for (const name of [...AGENT_DEPLOYMENTS.map((a) => a.name), 'consul', 'syslog', 'prometheus', 'grafana'])
      assert.ok(services[name], name);
  });

  for (const agent of AGENT_DEPLOYMENTS) {
    it(`${agent.name}: its command, only the mounts it needs, no privilege`, () => {
      const service = obj(services[agent.name]);
      assert.equal(list(service.command)[0], agent.name);
      assert.match(String(service.image), /^\$\{QUAYSIDE_IMAGE:-quayside\/quayside:[\w.]+\}$/);
      assert.deepEqual(service.entrypoint, agent.entrypoint, `${agent.name}: the entrypoint`);
      const binds = expectedBinds(agent);
      const mounts = list(service.volumes).map((v) => {
        const [source, target, mode] = withDefaultDataRoot(
          String(v).replace('${DOCKER_SOCKET:-/var/run/docker.sock}', DOCKER_SOCKET),
        ).split(':');
        return { source: source!, target, readOnly: mode === 'ro' };
      });
      for (const mount of mounts) {
        if (mount.target === STATE_DIR) {
          assert.ok(agent.stateVolume, `${agent.name} mounts a state volume it does not need`);
          assert.match(mount.source, /^[a-z-]+-state$/, 'a named volume');
          continue;
        }
        assert.deepEqual(
          { target: mount.target, readOnly: mount.readOnly },
          binds.get(mount.source),
          `${agent.name}: ${mount.source}`,
        );
      }
      assert.deepEqual(
        mounts
          .filter((m) => m.target !== STATE_DIR)
          .map((m) => m.source)
          .sort(),
        [...binds.keys()].sort(),
      );
      assert.equal(
        mounts.some((m) => m.target === STATE_DIR),
        agent.stateVolume,
      );
      if (!agent.stateVolume)
        assert.deepEqual(
          list(service.tmpfs).map((t) => String(t).split(':')[0]),
          [STATE_DIR],
        );
      assertEachCommented(doc, ['services', agent.name, 'volumes'], `compose ${agent.name}`);

      assert.equal(service.read_only, true);
      assert.deepEqual(service.cap_drop, ['ALL']);
      assert.deepEqual(service.security_opt, ['no-new-privileges:true']);
      for (const key of ['privileged', 'cap_add', 'pid', 'ipc', 'devices', 'user'])
        assert.equal(service[key], undefined, `${agent.name} sets ${key}`);
      assert.deepEqual(service.group_add, extraGroups(agent, '${DOCKER_GID:-999}', '0'));
      assert.equal(service.network_mode === 'host', agent.hostNetwork);
      if (agent.hostCgroupAndProc) {
        assert.equal(obj(service.environment).QUAYSIDE_STATS_CGROUP_ROOT, HOST_CGROUP);
        assert.equal(obj(service.environment).QUAYSIDE_STATS_PROC_ROOT, HOST_PROC);
      }
      if (agent.hostNetwork) assert.equal(obj(service.environment).QUAYSIDE_LISTEN, `0.0.0.0:${agent.hostPort}`);
      else
        assert.deepEqual(
          service.ports,
          [`127.0.0.1:${agent.hostPort}:${agent.containerPort}`],
          'published on loopback only',
        );
    });
  }

  it('points Prometheus at every agent, and Grafana at the dashboard', () => {
    const prometheus = parseDocument(read('prometheus/prometheus.yml')).toJS() as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((s) => s.targets));
    for (const agent of AGENT_DEPLOYMENTS) {
      const expected = agent.hostNetwork
        ? `host.docker.internal:${agent.hostPort}`
        : `${agent.name}:${agent.containerPort}`;
      assert.ok(targets.includes(expected), `${expected} in ${targets.join(', ')}`);
    }
    const grafana = list(obj(services.grafana).volumes).map((v) => String(v).split(':')[0]!);
    for (const source of [...grafana, ...list(obj(services.prometheus).volumes).map((v) => String(v).split(':')[0]!)]) {
      assert.ok(statSync(join(DEPLOY, source)), `${source} exists`);
    }
    assert.ok(grafana.includes('./grafana/quayside-dashboard.json'));
  });
});

describe('deploy/swarm-stack.yaml', () => {
  // docker stack deploy reads YAML 1.1.
  const doc = parseDocument(read('swarm-stack.yaml'), { version: '1.1' });
  const stack = obj(doc.toJS({ maxAliasCount: -1 }));
  const services = obj(stack.services);

  it('has every agent, and nothing else, on the host network', () => {
    assert.deepEqual(Object.keys(services).sort(), AGENT_DEPLOYMENTS.map((a) => a.name).sort());
    assert.deepEqual(obj(stack.networks).hostnet, { external: true, name: 'host' });
  });

  for (const agent of AGENT_DEPLOYMENTS) {
    it(`${agent.name}: a global service with only the mounts it needs, no privilege`, () => {
      const service = obj(services[agent.name]);
      assert.equal(obj(service.deploy).mode, 'global');
      assert.deepEqual(service.networks, ['hostnet']);
      assert.equal(service.ports, undefined, 'no published ports: the routing mesh is not used');
      assert.equal(list(service.command)[0], agent.name);
      assert.deepEqual(service.entrypoint, agent.entrypoint, `${agent.name}: the entrypoint`);
      assert.equal(
        obj(service.environment).QUAYSIDE_LISTEN,
        `\${QUAYSIDE_${envName(agent.name)}_LISTEN:-0.0.0.0:${agent.hostPort}}`,
      );
      const binds = expectedBinds(agent);
      const mounts = list(service.volumes).map(obj);
      for (const mount of mounts) {
        if (mount.type === 'volume') {
          assert.equal(mount.target, STATE_DIR);
          assert.equal(mount.source, agent.stateVolume ? `${agent.name}-state` : `${agent.name}-scratch`);
          assert.ok(String(mount.source) in obj(stack.volumes), `volume ${String(mount.source)} declared`);
          continue;
        }
        assert.equal(mount.type, 'bind');
        const source = withDefaultDataRoot(
          String(mount.source).replace('${DOCKER_SOCKET:-/var/run/docker.sock}', DOCKER_SOCKET),
        );
        assert.deepEqual(
          { target: withDefaultDataRoot(String(mount.target)), readOnly: mount.read_only === true },
          binds.get(source),
          `${agent.name}: ${source}`,
        );
      }
      assert.equal(mounts.filter((m) => m.type === 'bind').length, binds.size);
      assert.equal(mounts.filter((m) => m.type === 'volume').length, 1);
      assertEachCommented(doc, ['services', agent.name, 'volumes'], `stack ${agent.name}`);
      assert.equal(service.read_only, true);
      assert.deepEqual(service.cap_drop, ['ALL']);
      for (const key of ['privileged', 'cap_add', 'pid', 'devices', 'group_add'])
        assert.equal(service[key], undefined, `${agent.name} sets ${key}`);
      // Stack files have no group_add: the socket's group must come in as the primary group.
      assert.equal(service.user, '10001:${DOCKER_GID:-999}', `${agent.name}: user 10001 in the socket's group`);
      assert.deepEqual(list(obj(service.healthcheck).test).slice(1), ['node', '/app/dist/cli/healthcheck.js']);
    });
  }
});

describe('deploy/kubernetes/quayside.yaml', () => {
  const docs = parseAllDocuments(read('kubernetes/quayside.yaml')) as Document[];
  const objects = docs.map((d) => obj(d.toJS()));

  it('parses, and has one DaemonSet per agent in the quayside namespace', () => {
    for (const doc of docs) assert.deepEqual(doc.errors, []);
    const daemonSets = objects.filter((o) => o.kind === 'DaemonSet');
    assert.deepEqual(
      daemonSets.map((d) => obj(d.metadata).name).sort(),
      AGENT_DEPLOYMENTS.map((a) => `quayside-${a.name}`).sort(),
    );
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) assert.equal(obj(o.metadata).namespace, 'quayside');
  });

  for (const agent of AGENT_DEPLOYMENTS) {
    it(`${agent.name}: non-root, read-only, no capabilities, only the host paths it needs`, () => {
      const index = objects.findIndex(
        (o) => o.kind === 'DaemonSet' && obj(o.metadata).name === `quayside-${agent.name}`,
      );
      const pod = obj(obj(obj(objects[index]!.spec).template).spec);
      const podMeta = obj(obj(obj(objects[index]!.spec).template).metadata);
      const [container, ...others] = list(pod.containers).map(obj);
      assert.equal(others.length, 0);
      assert.equal(list(container!.args)[0], agent.name);
      assert.deepEqual(container!.command, agent.entrypoint, `${agent.name}: the entrypoint`);
      assert.equal(pod.hostNetwork === true, agent.hostNetwork);
      for (const key of ['hostPID', 'hostIPC']) assert.equal(pod[key], undefined);
      assert.equal(pod.automountServiceAccountToken, false);
      const podSecurity = obj(pod.securityContext);
      assert.equal(podSecurity.runAsNonRoot, true);
      assert.ok(Number(podSecurity.runAsUser) > 0);
      assert.deepEqual(
        podSecurity.supplementalGroups,
        extraGroups(agent, 999, 0),
        'the Docker socket group, and root for the writable layers',
      );
      assert.deepEqual(obj(container!.securityContext), {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      // An init container may only hand the state folder to the agent's user.
      for (const init of list(pod.initContainers).map(obj)) {
        assert.ok(agent.stateVolume);
        assert.deepEqual(obj(obj(init.securityContext).capabilities), { drop: ['ALL'], add: ['CHOWN'] });
        assert.match(list(init.command).join(' '), /^sh -c chown 10001:10001 \/var\/lib\/quayside$/);
      }

      const volumes = new Map(
        list(pod.volumes)
          .map(obj)
          .map((v) => [String(v.name), v]),
      );
      const mounts = list(container!.volumeMounts).map(obj);
      const binds = expectedBinds(agent);
      for (const mount of mounts) {
        const volume = volumes.get(String(mount.name))!;
        assert.ok(volume, `volume ${String(mount.name)}`);
        if (mount.mountPath === STATE_DIR) {
          assert.equal(mount.readOnly, false);
          if (agent.stateVolume)
            assert.deepEqual(obj(volume.hostPath), {
              path: `/var/lib/quayside/${agent.name}`,
              type: 'DirectoryOrCreate',
            });
          else assert.ok(volume.emptyDir, `${agent.name} keeps no state: an emptyDir`);
          continue;
        }
        const hostPath = obj(volume.hostPath);
        assert.deepEqual(
          { target: mount.mountPath, readOnly: mount.readOnly === true },
          binds.get(String(hostPath.path)),
          `${agent.name}: ${String(hostPath.path)}`,
        );
        if (hostPath.path === DOCKER_SOCKET) assert.equal(hostPath.type, 'Socket');
      }
      assert.equal(mounts.length, binds.size + 1);
      assertEachCommented(
        docs[index]!,
        ['spec', 'template', 'spec', 'containers', 0, 'volumeMounts'],
        `kubernetes ${agent.name}`,
      );

      const port = agent.hostNetwork ? agent.hostPort : agent.containerPort;
      const env = new Map(
        list(container!.env)
          .map(obj)
          .map((e) => [e.name, e.value]),
      );
      assert.equal(env.get('QUAYSIDE_LISTEN'), `0.0.0.0:${port}`);
      assert.deepEqual(
        list(container!.ports)
          .map(obj)
          .map((p) => p.containerPort),
        [port],
      );
      assert.equal(obj(podMeta.annotations)['prometheus.io/port'], String(port));
      assert.equal(obj(obj(container!.livenessProbe).httpGet).path, '/healthz');
      assert.equal(obj(obj(container!.readinessProbe).httpGet).path, '/readyz');
    });
  }
});

describe('deploy/nomad/quayside.nomad.hcl', () => {
  const text = read('nomad/quayside.nomad.hcl');
  const file = parseHcl(text);
  const [job] = blocksOf(file, 'job', 'quayside');

  it('is a system job with one group per agent, each running the image with the docker driver', () => {
    assert.ok(job);
    assert.equal(job.attributes.type, 'system');
    assert.deepEqual(
      blocksOf(job, 'group')
        .map((g) => g.labels[0])
        .sort(),
      AGENT_DEPLOYMENTS.map((a) => a.name).sort(),
    );
    assert.deepEqual(
      blocksOf(file, 'variable')
        .map((v) => v.labels[0])
        .sort(),
      ['consul_uri', 'docker_gid', 'image', 'route_uris'],
    );
  });

  it('says why before every mount', () => {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (/^\s*mount \{/.test(line)) assert.match(lines[i - 1]!, /^\s*#/, `line ${i + 1}`);
    });
  });

  for (const agent of AGENT_DEPLOYMENTS) {
    it(`${agent.name}: only the mounts it needs, read-only root, no capabilities`, () => {
      const [group] = blocksOf(job!, 'group', agent.name);
      const [task] = blocksOf(group!, 'task', agent.name);
      const [config] = blocksOf(task!, 'config');
      const attributes = config!.attributes;
      assert.equal(task!.attributes.driver, 'docker');
      assert.deepEqual(attributes.image, { ref: 'var.image' });
      assert.equal((attributes.args as HclValue[])[0], agent.name);
      assert.deepEqual(attributes.entrypoint, agent.entrypoint, `${agent.name}: the entrypoint`);
      assert.equal(attributes.readonly_rootfs, true);
      assert.deepEqual(attributes.cap_drop, ['all']);
      assert.deepEqual(attributes.security_opt, ['no-new-privileges']);
      assert.deepEqual(attributes.group_add, extraGroups<HclValue>(agent, { ref: 'var.docker_gid' }, '0'));
      for (const key of ['privileged', 'cap_add', 'pid_mode', 'ipc_mode', 'devices', 'volumes'])
        assert.equal(attributes[key], undefined, `${agent.name} sets ${key}`);
      assert.equal(attributes.network_mode === 'host', agent.hostNetwork);

      const binds = expectedBinds(agent);
      const mounts = blocksOf(config!, 'mount').map((m: HclBlock) => m.attributes);
      for (const mount of mounts) {
        if (mount.target === STATE_DIR) {
          assert.deepEqual([mount.type, mount.readonly], ['volume', false]);
          assert.equal(mount.source, `quayside-${agent.name}-${agent.stateVolume ? 'state' : 'scratch'}`);
          continue;
        }
        assert.equal(mount.type, 'bind');
        assert.deepEqual(
          { target: mount.target, readOnly: mount.readonly === true },
          binds.get(String(mount.source)),
          `${agent.name}: ${String(mount.source)}`,
        );
      }
      assert.equal(mounts.length, binds.size + 1);

      const [port] = blocksOf(blocksOf(group!, 'network')[0]!, 'port', 'http');
      assert.equal(port!.attributes.static, agent.hostPort);
      const listenPort = agent.hostNetwork ? agent.hostPort : agent.containerPort;
      if (!agent.hostNetwork) assert.equal(port!.attributes.to, agent.containerPort);
      assert.equal(blocksOf(task!, 'env')[0]!.attributes.QUAYSIDE_LISTEN, `0.0.0.0:${listenPort}`);
      const [service] = blocksOf(task!, 'service');
      assert.ok((service!.attributes.tags as string[]).includes('quayside'));
      assert.equal(service!.attributes.name, `quayside-${agent.name}`);
    });
  }
});

/** The metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  return [...stripped.matchAll(/(?<![\w:$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !keywords.has(n.toLowerCase()));
}

describe('deploy/grafana/quayside-dashboard.json', () => {
  const dashboard = JSON.parse(read('grafana/quayside-dashboard.json')) as {
    uid: string;
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
    ...dashboard.templating.list
      .filter((v) => v.definition)
      .map((v) => ({ where: `$${v.name}`, expr: /label_values\((.*),\s*\w+\)$/.exec(v.definition!)![1]! })),
  ];

  /** Every metric quayside serves: the exporter's families, the runtime's, the agents' own (from the sources). */
  function knownMetrics(): Set<string> {
    const registry = createMetricsRegistry('test');
    eventStreamMetrics(registry);
    const names = new Set<string>([
      ...FAMILIES.map((f) => f.name),
      ...registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name),
    ]);
    const sources = ['agents', 'shared'].flatMap((dir) =>
      execFileSync('grep', ['-rhoE', "name: '(quayside_[a-z_]+)'", join(ROOT, dir)], { encoding: 'utf8' }).split('\n'),
    );
    for (const line of sources) if (line) names.add(line.slice("name: '".length, -1));
    return names;
  }

  it("reads only metrics that quayside serves (and Prometheus' own up)", () => {
    const known = knownMetrics();
    known.add('up');
    assert.ok(exprs.length > 20);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: ${expr} reads no metric`);
      for (const name of names)
        assert.ok(known.has(name), `${where}: ${name} is not a metric quayside serves (${expr})`);
    }
  });

  it('has panels for every group of container metrics and for the agents themselves', () => {
    const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
    for (const group of METRIC_GROUPS) {
      if (group === 'spec') continue; // the limits appear divided into usage
      assert.ok(
        FAMILIES.some((f) => f.group === group && used.has(f.name)),
        `no panel on ${group}`,
      );
    }
    for (const name of [
      'quayside_docker_connected',
      'quayside_stats_scrape_duration_seconds',
      'quayside_findings_open',
      'container_spec_memory_limit_bytes',
    ])
      assert.ok(used.has(name), name);
    assert.equal(dashboard.uid, 'quayside-overview');
  });

  it('finds metric names in PromQL the way Prometheus reads it', () => {
    assert.deepEqual(metricNames('sum by (name) (rate(a_total{x="y{z}"}[5m])) / on (id) b > 0'), ['a_total', 'b']);
    assert.deepEqual(metricNames('max by (instance) (c{state!="running"} == 1) and d'), ['c', 'd']);
  });
});

describe('deploy/prometheus', () => {
  const promtool = spawnSync('promtool', ['--version']).status === 0;

  /** promtool's verdict on a config file; jobs using discovery this promtool was built without are cut first. */
  function check(file: string): { stdout: string; cut: string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'qs-prom-'));
    try {
      const doc = parseDocument(readFileSync(file, 'utf8'));
      const cut: string[] = [];
      for (;;) {
        const path = join(dir, 'prometheus.yml');
        writeFileSync(path, doc.toString());
        const result = spawnSync('promtool', ['check', 'config', path], { encoding: 'utf8' });
        if (result.status === 0) return { stdout: result.stdout, cut };
        const missing = /field (\w+_sd_configs) not found/.exec(result.stderr + result.stdout)?.[1];
        assert.ok(missing, `promtool check config ${file}: ${result.stderr}${result.stdout}`);
        const jobs = doc.get('scrape_configs') as { items: YAMLMap[] };
        const index = jobs.items.findIndex((job) => job.has(missing));
        cut.push(`${String(jobs.items[index]!.get('job_name'))} (${missing})`);
        jobs.items.splice(index, 1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('has valid configurations for the trial and for clusters (promtool)', function () {
    if (!promtool) this.skip(); // installed by test/env/install.sh
    check(join(DEPLOY, 'prometheus', 'prometheus.yml'));
    const { cut } = check(join(DEPLOY, 'prometheus', 'prometheus-cluster.yml'));
    // Debian's Prometheus is built without some discovery mechanisms: only those jobs may be cut.
    for (const job of cut) assert.match(job, /^quayside-(kubernetes|nomad) \((kubernetes|nomad)_sd_configs\)$/);
  });

  it('scrapes every agent at its port on every Swarm node, and the Kubernetes and Nomad agents', () => {
    const config = parseDocument(read('prometheus/prometheus-cluster.yml')).toJS() as { scrape_configs: Json[] };
    for (const agent of AGENT_DEPLOYMENTS) {
      const job = config.scrape_configs.find((j) => j.job_name === `quayside-swarm-${agent.name}`);
      assert.ok(job, agent.name);
      assert.equal(obj(list(job.dockerswarm_sd_configs)[0]).port, agent.hostPort);
    }
    const names = config.scrape_configs.map((j) => j.job_name);
    for (const name of ['quayside-kubernetes', 'quayside-nomad', 'quayside-hosts'])
      assert.ok(names.includes(name), name);
  });

  it('has provisioning that points Grafana at the trial Prometheus and the dashboard folder', () => {
    const dir = join(DEPLOY, 'grafana', 'provisioning');
    assert.deepEqual(readdirSync(dir).sort(), ['dashboards', 'datasources']);
    const source = parseDocument(readFileSync(join(dir, 'datasources', 'prometheus.yaml'), 'utf8')).toJS() as {
      datasources: Json[];
    };
    assert.equal(source.datasources[0]!.url, 'http://prometheus:9090');
  });
});
