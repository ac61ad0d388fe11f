import { strict as assert } from 'node:assert';
import { isExecEvent, MalformedEventError, orderingKey, parseEventLine } from '../../shared/docker/event';

describe('parseEventLine', () => {
  it('keys on Type, Action and Actor.ID and splits the action at the colon', () => {
    const line =
      '{"status":"exec_start: sh -c date","id":"abc","from":"busybox:test","Type":"container","Action":"exec_start: sh -c date",' +
      '"Actor":{"ID":"abc","Attributes":{"execID":"e1","image":"busybox:test","name":"web"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}';
    const event = parseEventLine(line);
    assert.deepEqual(event, {
      type: 'container',
      action: 'exec_start',
      detail: 'sh -c date',
      id: 'abc',
      name: 'web',
      image: 'busybox:test',
      attributes: { execID: 'e1', image: 'busybox:test', name: 'web' },
      scope: 'local',
      timeNano: '1700000000123456789',
    });
  });

  it('keeps every nanosecond of timeNano, beyond what a JS number holds', () => {
    const event = parseEventLine(
      '{"Type":"image","Action":"tag","Actor":{"ID":"x","Attributes":{}},"time":1700000000,"timeNano":1700000000000000001}',
    );
    assert.equal(event.timeNano, '1700000000000000001');
    assert.notEqual(String(JSON.parse('1700000000000000001')), event.timeNano, 'JSON.parse alone would round it');
  });

  it('does not take a timeNano label for the event time', () => {
    const event = parseEventLine(
      '{"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"timeNano":"5"}},"time":1700000000,"timeNano":1700000000000000007}',
    );
    assert.equal(event.timeNano, '1700000000000000007');
    assert.equal(event.attributes.timeNano, '5');
  });

  it('splits health_status the same way', () => {
    const event = parseEventLine(
      '{"Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"c","Attributes":{}},"time":1,"timeNano":1000000000}',
    );
    assert.equal(event.action, 'health_status');
    assert.equal(event.detail, 'unhealthy');
  });

  it('falls back to status/id/from for engines older than API 1.22', () => {
    const event = parseEventLine('{"status":"die","id":"c1","from":"redis:7","time":1700000000}');
    assert.equal(event.type, 'container');
    assert.equal(event.action, 'die');
    assert.equal(event.id, 'c1');
    assert.equal(event.image, 'redis:7');
    assert.equal(event.timeNano, '1700000000000000000');
  });

  it('drops non-string attribute values instead of failing', () => {
    const event = parseEventLine(
      '{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c","weird":{"a":1}}},"time":1,"timeNano":1000000000}',
    );
    assert.deepEqual(event.attributes, { container: 'c' });
  });

  for (const [why, line] of [
    ['not JSON', '{"Type":'],
    ['not an object', '[1,2]'],
    ['no Type or Action', '{"Actor":{"ID":"x"},"timeNano":1}'],
    ['no time', '{"Type":"container","Action":"start","Actor":{"ID":"x"}}'],
    ['null', 'null'],
  ] as const) {
    it(`rejects a line that is ${why} with MalformedEventError`, () => {
      assert.throws(
        () => parseEventLine(line),
        (error: unknown) => error instanceof MalformedEventError && error.line === line,
      );
    });
  }
});

describe('orderingKey', () => {
  const base = { detail: '', name: '', image: '', scope: 'local', timeNano: '1' };
  it('orders network and volume events that name a container with that container', () => {
    const start = { ...base, type: 'container', action: 'start', id: 'c1', attributes: {} };
    const connect = { ...base, type: 'network', action: 'connect', id: 'n1', attributes: { container: 'c1' } };
    assert.equal(orderingKey(connect), 'container:c1');
    assert.equal(orderingKey(start), 'container:c1');
  });
  it('keeps other objects apart by type and id', () => {
    assert.equal(orderingKey({ ...base, type: 'volume', action: 'create', id: 'data', attributes: {} }), 'volume:data');
  });
  it('orders all image events together: a pull names a reference, a delete an ID', () => {
    assert.equal(
      orderingKey({ ...base, type: 'image', action: 'pull', id: 'busybox:latest', attributes: {} }),
      'image',
    );
    assert.equal(orderingKey({ ...base, type: 'image', action: 'delete', id: 'sha256:abc', attributes: {} }), 'image');
  });
  it('recognizes exec events', () => {
    assert.equal(isExecEvent({ ...base, type: 'container', action: 'exec_die', id: 'c', attributes: {} }), true);
    assert.equal(isExecEvent({ ...base, type: 'container', action: 'die', id: 'c', attributes: {} }), false);
  });
});
