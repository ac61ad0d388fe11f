import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import sinon from 'sinon';
import {
  actionDue,
  Enforcer,
  type ContainerState,
  type EnforcementRecord,
} from '../../agents/security-watcher/enforcement';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDeadlineError } from '../../shared/docker/request-deadline';
import { silentLogger } from '../../shared/ops/logger';

const running: ContainerState = { id: 'abc', name: 'web', running: true, paused: false, networks: ['bridge', 'shop'] };

function fakeDocker(fail?: Error & { statusCode?: number }) {
  const calls: string[] = [];
  const act = (name: string) => async (arg?: unknown) => {
    calls.push(arg === undefined ? name : `${name} ${JSON.stringify(arg)}`);
    if (fail) throw fail;
  };
  const docker = {
    getContainer: () => ({
      pause: act('pause'),
      stop: act('stop'),
      kill: act('kill'),
      inspect: async () => ({ State: { Paused: true, Status: 'paused' } }),
    }),
    getNetwork: (name: string) => ({ disconnect: act(`disconnect ${name}`) }),
  } as unknown as Dockerode;
  return { docker, calls };
}

function engineError(message: string, statusCode: number): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

describe('security enforcement', () => {
  afterEach(() => sinon.restore());

  it('an action is due only while it has something left to do', () => {
    assert.equal(actionDue('pause', running), true);
    assert.equal(actionDue('pause', { ...running, paused: true }), false);
    assert.equal(actionDue('kill', { ...running, running: false }), false);
    assert.equal(actionDue('disconnect', { ...running, networks: [] }), false);
    assert.equal(actionDue('disconnect', { ...running, networks: ['none'] }), false);
    assert.equal(actionDue('stop', running), true);
  });

  it('each action calls the engine as it should, and measures from the event', async () => {
    sinon.useFakeTimers({ now: 1_700_000_000_250, toFake: ['Date'] });
    const { docker, calls } = fakeDocker();
    const records: EnforcementRecord[] = [];
    const enforcer = new Enforcer(docker, silentLogger, new Registry(), false, (r) => records.push(r));
    for (const action of ['pause', 'stop', 'kill', 'disconnect'] as const)
      await enforcer.enforce(running, action, ['privileged'], 'start', '1700000000200000000');
    assert.deepEqual(calls, [
      'pause',
      'stop {"t":2}',
      'kill {"signal":"SIGKILL"}',
      'disconnect bridge {"Container":"abc","Force":true}',
      'disconnect shop {"Container":"abc","Force":true}',
    ]);
    assert.deepEqual(
      records.map((r) => [r.action, r.result, r.latencyMs]),
      [
        ['pause', 'ok', 50],
        ['stop', 'ok', 50],
        ['kill', 'ok', 50],
        ['disconnect', 'ok', 50],
      ],
    );
  });

  it('disconnect cannot contain a host-network container: it fails loudly, never silently passes', async () => {
    for (const state of [
      { ...running, networks: ['host'], networkMode: 'host' },
      { ...running, networks: [], networkMode: 'container:db' },
    ]) {
      assert.equal(actionDue('disconnect', state), true, state.networkMode);
      const { docker, calls } = fakeDocker();
      const record = await new Enforcer(docker, silentLogger, new Registry()).enforce(
        state,
        'disconnect',
        ['host-network'],
        'start',
      );
      assert.equal(record.result, 'failed');
      assert.match(
        record.error!,
        /cannot disconnect a container that uses the (host|container:db) network; enforce pause, stop or kill/,
      );
      assert.deepEqual(calls, []);
    }
  });

  it('dry-run acts on nothing but records and counts', async () => {
    const { docker, calls } = fakeDocker();
    const metrics = new Registry();
    const record = await new Enforcer(docker, silentLogger, metrics, true).enforce(
      running,
      'kill',
      ['privileged'],
      'start',
    );
    assert.equal(record.result, 'dry-run');
    assert.deepEqual(calls, []);
    assert.match(
      await metrics.metrics(),
      /^quayside_security_enforcement_actions_total\{action="kill",result="dry-run"\} 1$/m,
    );
  });

  it('dry-run reports a would-be action once per container run, not at every sync', async () => {
    const { docker } = fakeDocker();
    const metrics = new Registry();
    const enforcer = new Enforcer(docker, silentLogger, metrics, true);
    const run1 = { ...running, startedAt: '2026-01-01T00:00:00Z' };
    const results = [];
    for (let sync = 0; sync < 3; sync++)
      results.push((await enforcer.enforce(run1, 'kill', ['privileged'], 'sync')).result);
    results.push((await enforcer.enforce(run1, 'pause', ['privileged'], 'sync')).result);
    results.push(
      (await enforcer.enforce({ ...run1, startedAt: '2026-01-01T00:05:00Z' }, 'pause', ['privileged'], 'start')).result,
    );
    enforcer.forget(run1.id);
    results.push(
      (await enforcer.enforce({ ...run1, startedAt: '2026-01-01T00:05:00Z' }, 'pause', ['privileged'], 'sync')).result,
    );
    assert.deepEqual(results, ['dry-run', 'already', 'already', 'dry-run', 'dry-run', 'dry-run']);
    assert.match(
      await metrics.metrics(),
      /^quayside_security_enforcement_actions_total\{action="kill",result="dry-run"\} 1$/m,
    );
  });

  it('an engine that says it is already done is not a failure; anything else is, and is reported', async () => {
    const already = await new Enforcer(
      fakeDocker(engineError('Container abc is already paused', 409)).docker,
      silentLogger,
      new Registry(),
    ).enforce(running, 'pause', ['x'], 'start');
    assert.equal(already.result, 'already');
    const gone = await new Enforcer(
      fakeDocker(engineError('No such container: abc', 404)).docker,
      silentLogger,
      new Registry(),
    ).enforce(running, 'kill', ['x'], 'start');
    assert.equal(gone.result, 'already');
    const failed = await new Enforcer(
      fakeDocker(engineError('permission denied', 500)).docker,
      silentLogger,
      new Registry(),
    ).enforce(running, 'stop', ['x'], 'start');
    assert.deepEqual([failed.result, failed.error], ['failed', 'permission denied']);
  });

  describe('a pause that wedges the engine (it froze an exec as it started)', () => {
    const id = 'f5d78db14ebd494cde18a0e0ba7d6aab521e79d03c6672752f2a8ce19d19e974';
    /** An engine that stops answering inspect after the first pause, until the cgroup is thawed. */
    function wedgingDocker(freezerFile: string | undefined) {
      const calls: string[] = [];
      let pauses = 0;
      const container = {
        id,
        pause: async () => void calls.push(`pause ${++pauses}`),
        unpause: async () => void calls.push('unpause'),
        inspect: async () => {
          calls.push('inspect');
          if (pauses === 1 && (!freezerFile || readFileSync(freezerFile, 'utf8') !== 'THAWED'))
            throw new DockerDeadlineError(`GET /containers/${id}/json`, 2_000);
          return { State: { Paused: true, Status: 'paused' } };
        },
      };
      return { docker: { getContainer: () => container } as unknown as Dockerode, calls };
    }

    it('detects it, thaws the freezer cgroup, pauses again through the engine and says so', async () => {
      const root = mkdtempSync(join(tmpdir(), 'qs-cgroup-'));
      const dir = join(root, 'freezer', 'qs-parent', id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
      const { docker, calls } = wedgingDocker(join(dir, 'freezer.state'));
      const metrics = new Registry();
      const record = await new Enforcer(docker, silentLogger, metrics, false, undefined, root).enforce(
        { ...running, id },
        'pause',
        ['exec-package-install'],
        'exec_create',
      );
      assert.equal(record.result, 'ok', record.error);
      assert.match(
        record.note ?? '',
        /froze an exec as it started.*thawed .*qs-parent\/f5d78db14ebd.*\/freezer\.state and paused again/,
      );
      assert.equal(readFileSync(join(dir, 'freezer.state'), 'utf8'), 'THAWED');
      assert.deepEqual(calls, ['pause 1', 'inspect', 'unpause', 'pause 2', 'inspect']);
      assert.match(await metrics.metrics(), /quayside_security_enforcement_wedges_total\{recovered="true"\} 1/);
    });

    it('fails naming the wedge and the missing cgroup when it cannot thaw', async () => {
      const { docker } = wedgingDocker(undefined);
      const root = mkdtempSync(join(tmpdir(), 'qs-cgroup-'));
      const record = await new Enforcer(docker, silentLogger, new Registry(), false, undefined, root).enforce(
        { ...running, id },
        'pause',
        ['x'],
        'exec_create',
      );
      assert.equal(record.result, 'failed');
      assert.match(
        record.error ?? '',
        /stopped answering for the container after the pause.*could not thaw it: no freezer cgroup of f5d78db14ebd under /,
      );
    });
  });
});
