/**
 * CPU time of a synchronous piece of work, in milliseconds. Bounds that catch a super-linear
 * blow-up use it instead of the wall clock: on a loaded machine a process may wait seconds for a
 * core, but the work it does stays the same.
 */
export function cpuMillisOf(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}
