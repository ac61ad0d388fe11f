import { strict as assert } from 'node:assert';
import { flatKeyedValue, parseFlatKeyed } from '../../agents/stats-exporter/collectors/files';

// A cgroup v1 memory.stat: plain keys, total_* keys, and keys that contain others.
const STAT =
  'cache 4096\nrss 8192\nrss_huge 0\nmapped_file 12\npgfault 77\npgmajfault 3\ninactive_file 100\n' +
  'hierarchical_memory_limit 9223372036854771712\ntotal_cache 5000\ntotal_rss 9000\ntotal_pgfault 99\n';

describe('flatKeyedValue', () => {
  it('reads every key as the whole-file parser does, whole keys only (rss is not rss_huge nor total_rss)', () => {
    const all = parseFlatKeyed(STAT, 'memory.stat');
    for (const [key, value] of all) assert.equal(flatKeyedValue(STAT, key, 'memory.stat'), value, key);
    assert.equal(flatKeyedValue(STAT, 'rss', 'memory.stat'), 8192);
    assert.equal(flatKeyedValue(STAT, 'fault', 'memory.stat'), undefined);
    assert.equal(flatKeyedValue(STAT, 'total_swap', 'memory.stat'), undefined);
  });

  it('reads the first and the last line, with or without a final newline', () => {
    assert.equal(flatKeyedValue('anon 1\nfile 2', 'anon', 'memory.stat'), 1);
    assert.equal(flatKeyedValue('anon 1\nfile 2', 'file', 'memory.stat'), 2);
  });

  it('names the file and the line of a value that is not a number', () => {
    assert.throws(() => flatKeyedValue('anon 1\nfile x2\n', 'file', 'memory.stat'), /memory\.stat: bad line "file x2"/);
    assert.throws(() => flatKeyedValue('file \n', 'file', 'memory.stat'), /memory\.stat: bad line/);
  });
});
