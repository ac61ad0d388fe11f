/**
 * cAdvisor's machine_* families: the host's logical and physical cores, sockets, memory and swap,
 * labelled with the kernel's boot id and the system UUID where readable. Read once at start: none
 * of them changes while the host runs. No machine_id label: in a container /etc/machine-id is the
 * image's, not the host's, and a wrong id is worse than none.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseMeminfo } from './collectors/cgroup-v2';
import { readOptionalText } from './collectors/files';
import { familyHeader, formatValue, labelPairs } from './text-format';

export interface MachineInfo {
  logicalCores: number;
  physicalCores: number;
  sockets: number;
  memoryBytes: number;
  swapBytes: number;
  bootId?: string;
  systemUuid?: string;
  /** Something could not be read: cAdvisor's machine_scrape_error. */
  error: boolean;
}

export interface MachineRoots {
  procRoot: string;
  /** Normally /sys. */
  sysRoot: string;
}

export function readMachineInfo(roots: MachineRoots): MachineInfo {
  let error = false;
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch {
      error = true;
      return fallback;
    }
  };
  const meminfo = attempt(
    () => parseMeminfo(readOptionalText(join(roots.procRoot, 'meminfo')) ?? ''),
    new Map<string, number>(),
  );
  if (!meminfo.has('MemTotal')) error = true;
  const topology = attempt(() => cpuTopology(roots), { logical: 0, physical: 0, sockets: 0 });
  if (topology.logical === 0) error = true;
  return {
    logicalCores: topology.logical,
    physicalCores: topology.physical,
    sockets: topology.sockets,
    memoryBytes: meminfo.get('MemTotal') ?? 0,
    swapBytes: meminfo.get('SwapTotal') ?? 0,
    bootId: readIdentity(join(roots.procRoot, 'sys', 'kernel', 'random', 'boot_id')),
    systemUuid: readIdentity(join(roots.sysRoot, 'class', 'dmi', 'id', 'product_uuid')),
    error,
  };
}

/** Logical CPUs, and distinct (package, core) pairs and packages from sysfs topology. */
function cpuTopology(roots: MachineRoots): { logical: number; physical: number; sockets: number } {
  const cpuDir = join(roots.sysRoot, 'devices', 'system', 'cpu');
  const cpus = readdirSync(cpuDir).filter((name) => /^cpu\d+$/.test(name));
  const cores = new Set<string>();
  const sockets = new Set<string>();
  let logical = 0;
  for (const cpu of cpus) {
    // An offline CPU has no topology directory; cpu0 often has no `online` file at all.
    if (readOptionalText(join(cpuDir, cpu, 'online'))?.trim() === '0') continue;
    logical += 1;
    const pkg = readOptionalText(join(cpuDir, cpu, 'topology', 'physical_package_id'))?.trim() ?? '0';
    const core = readOptionalText(join(cpuDir, cpu, 'topology', 'core_id'))?.trim() ?? cpu;
    sockets.add(pkg);
    cores.add(`${pkg}/${core}`);
  }
  return { logical, physical: cores.size, sockets: sockets.size };
}

function readIdentity(file: string): string | undefined {
  try {
    return readOptionalText(file)?.trim() || undefined;
  } catch {
    return undefined; // product_uuid is root-only: not an error, the label is left out
  }
}

/** The machine_* families as exposition text. */
export function machineFamilies(info: MachineInfo): string {
  const labels = labelPairs(
    (
      [
        ['boot_id', info.bootId ?? ''],
        ['system_uuid', info.systemUuid ?? ''],
      ] as const
    ).filter(([, value]) => value !== ''),
  );
  const family = (name: string, help: string, value: number): string =>
    `${familyHeader(name, help, 'gauge')}${name}${labels === '' ? '' : `{${labels}}`} ${formatValue(value)}\n`;
  return [
    family('machine_cpu_cores', 'Number of logical CPU cores.', info.logicalCores),
    family('machine_cpu_physical_cores', 'Number of physical CPU cores.', info.physicalCores),
    family('machine_cpu_sockets', 'Number of CPU sockets.', info.sockets),
    family('machine_memory_bytes', 'Amount of memory installed on the machine.', info.memoryBytes),
    family('machine_swap_bytes', 'Amount of swap memory available on the machine.', info.swapBytes),
    `${familyHeader('machine_scrape_error', '1 if there was an error while getting machine metrics, 0 otherwise.', 'gauge')}machine_scrape_error ${info.error ? 1 : 0}\n`,
  ].join('');
}
