import { strict as assert } from 'node:assert';
import { closeSync, openSync, readdirSync, statSync } from 'node:fs';
import { countOpenFds, createMetricsRegistry } from '../../shared/ops/metrics';

describe('createMetricsRegistry process_open_fds', () => {
  const opened: number[] = [];
  afterEach(() => {
    for (const fd of opened.splice(0)) closeSync(fd);
  });

  async function openFdsSample(): Promise<string> {
    const text = await createMetricsRegistry('1.2.3').metrics();
    const lines = text.split('\n').filter((line) => line.includes('process_open_fds'));
    return lines.join('\n');
  }

  it('is served once, with prom-client’s name and help, counting the fds this process has open', async () => {
    const before = Number(/^process_open_fds (\d+)$/m.exec(await openFdsSample())?.[1]);
    for (let i = 0; i < 40; i++) opened.push(openSync('/dev/null', 'r'));
    const sample = await openFdsSample();
    assert.equal(
      sample,
      `# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds ${before + 40}`,
    );
  });

  it('counts what a listing of /proc/self/fd counts', () => {
    for (let i = 0; i < 25; i++) opened.push(openSync('/dev/null', 'r'));
    // The listing holds one fd of its own while it reads.
    assert.equal(countOpenFds(), readdirSync('/proc/self/fd').length - 1);
  });

  it('falls back to the listing where the kernel gives the directory no size (before Linux 6.2)', () => {
    assert.equal(statSync('/proc/self/fdinfo').size, 0, 'fdinfo stands in for an old kernel’s fd directory');
    for (let i = 0; i < 25; i++) opened.push(openSync('/dev/null', 'r'));
    assert.equal(countOpenFds('/proc/self/fdinfo'), countOpenFds());
  });

  it('is undefined, not a throw, when /proc cannot be read', () => {
    assert.equal(countOpenFds('/proc/self/no-such-dir'), undefined);
  });
});
