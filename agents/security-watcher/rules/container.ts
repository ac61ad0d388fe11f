/**
 * CIS Docker Benchmark 1.6.0 section 5 checks that `GET /containers/{id}/json` decides, plus the
 * Falco container rules that need only inspect (sensitive mount, disallowed image, run as root).
 * Where docker-bench gets a result wrong, the rule here says how it differs.
 */
import { posix } from 'node:path';
import type { ContainerTarget } from '../target';
import { redactCommand } from '../redact';
import { launchedPrograms } from './exec';
import { cisReference, hit, isRootUser, type SecurityRule } from './rule';

/** The inspect fields the rules read, typed loosely: Dockerode's types miss several of them. */
interface HostConfigFields {
  Privileged?: boolean;
  CapAdd?: string[] | null;
  SecurityOpt?: string[] | null;
  NetworkMode?: string;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  UsernsMode?: string;
  CgroupParent?: string;
  Memory?: number;
  CpuShares?: number;
  NanoCpus?: number;
  CpuQuota?: number;
  PidsLimit?: number | null;
  ReadonlyRootfs?: boolean;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
  PublishAllPorts?: boolean;
  Devices?: Array<{ PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }> | null;
  Ulimits?: Array<{ Name?: string }> | null;
}

interface MountFields {
  Type?: string;
  Source?: string;
  Destination?: string;
  RW?: boolean;
  Propagation?: string;
}

type ContainerRule = SecurityRule<ContainerTarget>;

function hostConfig(target: ContainerTarget): HostConfigFields {
  return (target.info.HostConfig ?? {}) as HostConfigFields;
}

/**
 * The container's mounts. A local volume created with `o=bind,device=/etc` is the host's /etc
 * (inspect shows its _data directory as the source): it is given as the bind it is, by the volume.
 */
function mounts(target: ContainerTarget): Array<MountFields & { index: number; volume?: string }> {
  return ((target.info.Mounts ?? []) as Array<MountFields & { Name?: string }>).map((mount, index) => {
    const device = mount.Type === 'volume' && mount.Name ? target.volumeDevices?.get(mount.Name) : undefined;
    return device ? { ...mount, Type: 'bind', Source: device, index, volume: mount.Name } : { ...mount, index };
  });
}

/** How a mount reached the host path, for messages: through a bind volume, or directly. */
function through(m: { volume?: string }): string {
  return m.volume ? ` (through volume ${m.volume}, o=bind)` : '';
}

/** The source of a bind with symlinks resolved (inspect shows the link path, which hid `/etc` from docker-bench). */
function resolvedSource(target: ContainerTarget, mount: MountFields): string {
  const source = mount.Source ?? '';
  return target.resolvedSources.get(source) ?? source;
}

function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * SecurityOpt as evidence. `--security-opt seccomp=profile.json` puts the whole profile there
 * (tens of KB), which would travel with every finding to logs, webhooks and Redis: its size stands
 * in for it.
 */
function shownSecurityOptions(options: readonly string[]): string[] {
  return options.map((o) =>
    /^seccomp[=:]\s*\{/.test(o) ? `seccomp=<inline profile, ${o.length - 'seccomp='.length} bytes>` : o,
  );
}

/** A rule that fires on one field, with one subject-less hit. */
function fieldRule(
  meta: Omit<ContainerRule, 'check' | 'family'>,
  field: string,
  read: (hc: HostConfigFields) => unknown,
  violates: (value: unknown) => boolean,
  message: (value: unknown) => string,
): ContainerRule {
  return {
    ...meta,
    family: 'container',
    check(target) {
      const value = read(hostConfig(target));
      return violates(value) ? [hit('', message(value), field, value ?? null)] : [];
    },
  };
}

/** Engine API sockets by file name, wherever they are (rootless Podman's is under $XDG_RUNTIME_DIR). */
const ENGINE_SOCKET_NAMES = ['docker.sock', 'podman.sock'];

/** Docker's default capabilities: adding one of these changes nothing (docker-bench 5.4 uses the same set). */
const DEFAULT_CAPS = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** CIS 5.6 directories; docker-bench compared them exactly and only when mounted RW. */
const SENSITIVE_HOST_DIRS = ['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr'];

/**
 * Falco's "Launch Sensitive Mount Container" list (sockets of the engine are added from the host
 * facts). Falco matches these sources exactly, `/proc*` and `/root*` as prefixes: a read-only
 * `/etc/localtime` or `/etc/ssl/certs`, which many containers mount, is not sensitive.
 */
const FALCO_SENSITIVE_MOUNTS = [
  '/',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run/crio/crio.sock',
  '/run/containerd/containerd.sock',
  '/etc',
  '/home/admin',
];
/** Sensitive with everything under them (Falco's `/proc*`, `/root*`; the kubelet's state and PKI). */
const FALCO_SENSITIVE_TREES = ['/proc', '/root', '/var/lib/kubelet', '/etc/kubernetes'];
/** Host files under /etc that hold credentials (Falco's own sensitive-file list), read-only or not. */
const SENSITIVE_HOST_FILES = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/etc/pam.d',
  '/etc/security',
];

function namespaceRule(
  cis: string,
  id: string,
  what: string,
  field: keyof HostConfigFields & ('NetworkMode' | 'PidMode' | 'IpcMode' | 'UTSMode' | 'UsernsMode'),
  severity: ContainerRule['severity'],
): ContainerRule {
  const flag = field === 'UsernsMode' ? 'userns' : field.replace('Mode', '').toLowerCase();
  return {
    id,
    cis,
    family: 'container',
    title: `Container shares the host's ${what} namespace`,
    severity,
    remediation: `Do not run the container with --${flag}=host, nor join (--${flag} container:…) one that does.`,
    reference: cisReference(cis),
    check(target) {
      const value = hostConfig(target)[field];
      if (value === 'host')
        return [
          hit('', `shares the host's ${what} namespace (HostConfig.${field}=host)`, `HostConfig.${field}`, value),
        ];
      // `--${flag} container:x` where x runs with host mode is host mode too (docker-bench misses it).
      const joined = target.joined?.[field as 'NetworkMode' | 'PidMode' | 'IpcMode'];
      if (joined?.mode !== 'host' || joined.error) return [];
      return [
        hit(
          '',
          `shares the host's ${what} namespace through container ${joined.via.join(' → ')} (HostConfig.${field}=${String(value)}, which has ${field}=host)`,
          `HostConfig.${field}`,
          value ?? null,
          { joined: joined.via },
        ),
      ];
    },
  };
}

/** 5.17 on Podman too: it says IpcMode=shareable for --ipc host; where the kernel was asked, its answer counts. */
function hostIpcRule(): ContainerRule {
  const byMode = namespaceRule('5.17', 'host-ipc', 'IPC', 'IpcMode', 'high');
  return {
    ...byMode,
    check(target) {
      const hits = byMode.check(target);
      if (hits.length > 0 || target.hostIpc !== true) return hits;
      const mode = hostConfig(target).IpcMode ?? null;
      return [
        hit(
          '',
          `shares the host's IPC namespace (its init process is in it; the engine says HostConfig.IpcMode=${mode})`,
          'HostConfig.IpcMode',
          mode,
          { ipcNamespace: 'host' },
        ),
      ];
    },
  };
}

export const CONTAINER_RULES: readonly ContainerRule[] = [
  {
    id: 'apparmor-profile',
    cis: '5.2',
    family: 'container',
    title: 'Container runs without an AppArmor profile',
    severity: 'medium',
    remediation:
      'Run the container with --security-opt apparmor=<profile> (or keep the engine default docker-default).',
    reference: cisReference('5.2'),
    check(target) {
      // docker-bench warns on every container of a host without AppArmor (issue #320).
      if (!target.host.apparmor) return [];
      const profile = target.info.AppArmorProfile ?? '';
      return profile === '' || profile === 'unconfined'
        ? [
            hit(
              '',
              `runs without an AppArmor profile (AppArmorProfile=${JSON.stringify(profile)})`,
              'AppArmorProfile',
              profile,
            ),
          ]
        : [];
    },
  },
  {
    id: 'selinux-options',
    cis: '5.3',
    family: 'container',
    title: 'Container runs without SELinux labels',
    severity: 'medium',
    remediation:
      'Run the container with --security-opt label=level:<level> (or type:/user:/role:), and not label=disable.',
    reference: cisReference('5.3'),
    check(target) {
      if (!target.host.selinux) return [];
      // docker-bench passes any SecurityOpt, even seccomp=unconfined or the label=disable the daemon adds.
      const options = hostConfig(target).SecurityOpt ?? [];
      const labels = options.filter((o) => /^label[=:]/.test(o) && !/^label[=:]disable$/.test(o));
      return labels.length === 0
        ? [hit('', 'runs without SELinux label options', 'HostConfig.SecurityOpt', shownSecurityOptions(options))]
        : [];
    },
  },
  {
    id: 'added-capabilities',
    cis: '5.4',
    family: 'container',
    title: 'Container adds kernel capabilities beyond the default set',
    severity: 'high',
    remediation: 'Drop the --cap-add, or add only what the process needs (and --cap-drop ALL first).',
    reference: cisReference('5.4'),
    check(target) {
      const added = hostConfig(target).CapAdd ?? [];
      return added
        .map((cap) => cap.toUpperCase().replace(/^CAP_/, ''))
        .filter((cap) => !DEFAULT_CAPS.has(cap))
        .map((cap) => hit(cap, `adds capability ${cap}`, 'HostConfig.CapAdd', added));
    },
  },
  fieldRule(
    {
      id: 'privileged',
      cis: '5.5',
      title: 'Privileged container',
      severity: 'critical',
      remediation: 'Do not use --privileged; add the few capabilities or devices the container needs.',
      reference: cisReference('5.5'),
    },
    'HostConfig.Privileged',
    (hc) => hc.Privileged,
    (value) => value === true,
    () => 'runs privileged (HostConfig.Privileged=true): every capability, every device, no seccomp',
  ),
  {
    id: 'sensitive-host-dir',
    cis: '5.6',
    family: 'container',
    title: 'Sensitive host directory mounted read-write',
    severity: 'high',
    remediation: 'Do not mount host system directories; if one is needed, mount the narrowest path read-only (:ro).',
    reference: cisReference('5.6'),
    check(target) {
      // Unlike docker-bench: sub-paths count (/etc/shadow), and symlinked sources are resolved.
      return mounts(target)
        .filter((m) => m.Type === 'bind' && m.RW === true)
        .flatMap((m) => {
          const source = resolvedSource(target, m);
          // `/` itself is sensitive, not everything under it.
          const dir = SENSITIVE_HOST_DIRS.find((d) => (d === '/' ? source === '/' : isUnder(source, d)));
          if (!dir) return [];
          const via = source !== m.Source ? ` (via symlink ${m.Source})` : through(m);
          return [
            hit(
              m.Destination ?? '',
              `mounts host ${source}${via} read-write at ${m.Destination}`,
              `Mounts[${m.index}]`,
              { Source: m.Source, Destination: m.Destination, RW: m.RW },
              { ...(source !== m.Source ? { resolvedSource: source } : {}), ...(m.volume ? { volume: m.volume } : {}) },
            ),
          ];
        });
    },
  },
  {
    id: 'sshd',
    cis: '5.7',
    family: 'container',
    title: 'Container runs sshd',
    severity: 'medium',
    remediation: 'Do not run an SSH server in the container; use docker exec for access.',
    reference: cisReference('5.7'),
    check(target) {
      // From the configured command, and for a running container from its processes (GET /top, as
      // docker-bench's `docker exec ps` but without running anything in the container).
      const command = [target.info.Path, ...(target.info.Args ?? [])].filter(Boolean);
      // A shell-form CMD (`/bin/sh -c "/usr/sbin/sshd -D"`) runs sshd inside the script.
      const launched = launchedPrograms(target.info.Path ?? '', target.info.Args ?? []);
      if (
        command.some((word) => posix.basename(word) === 'sshd') ||
        launched.some(({ program }) => program === 'sshd')
      ) {
        const shown = redactCommand(command);
        return [hit('', `runs sshd (${shown.join(' ')})`, 'Path/Args', shown)];
      }
      const processes = target.processes;
      if (processes && 'error' in processes)
        return [
          hit(
            'processes',
            `could not check the running processes for sshd: ${processes.error}`,
            'GET /containers/{id}/top',
            null,
          ),
        ];
      // comm is the executable's name; sshd's own children show `sshd: user@pts/0` as their arguments.
      const sshd = processes?.list.find((p) => p.comm === 'sshd' || /^(?:\S*\/)?sshd(?::|\s|$)/.test(p.args));
      if (!sshd) return [];
      const shown = redactCommand(sshd.args.split(/\s+/));
      return [
        hit('', `a process runs sshd (${sshd.comm}: ${shown.join(' ')})`, 'GET /containers/{id}/top', {
          comm: sshd.comm,
          args: shown.join(' '),
        }),
      ];
    },
  },
  {
    id: 'privileged-port',
    cis: '5.8',
    family: 'container',
    title: 'Privileged host port mapped',
    severity: 'medium',
    remediation: 'Publish on a host port above 1024.',
    reference: cisReference('5.8'),
    check(target) {
      return (
        portBindings(target)
          // Ports below 1024 are privileged; docker-bench's `< 1025` also flags 1024.
          .map((b) => ({ ...b, low: b.hostPorts.filter((p) => p > 0 && p < 1024) }))
          .filter((b) => b.low.length > 0)
          .map((b) => hit(b.port, `publishes ${b.port} on privileged host port ${b.low.join(', ')}`, b.field, b.value))
      );
    },
  },
  {
    id: 'published-ports',
    cis: '5.9',
    family: 'container',
    title: 'Container publishes ports (check that each is needed)',
    severity: 'info',
    offByDefault: true,
    remediation: 'Publish only the ports the service needs.',
    reference: cisReference('5.9'),
    check(target) {
      return portBindings(target).map((b) =>
        hit(
          b.port,
          `publishes ${b.port} on host port ${b.hostPorts.map((p) => p || '(random)').join(', ')}`,
          b.field,
          b.value,
        ),
      );
    },
  },
  namespaceRule('5.10', 'host-network', 'network', 'NetworkMode', 'high'),
  fieldRule(
    {
      id: 'memory-limit',
      cis: '5.11',
      title: 'No memory limit',
      severity: 'medium',
      remediation: 'Set --memory.',
      reference: cisReference('5.11'),
    },
    'HostConfig.Memory',
    (hc) => hc.Memory ?? 0,
    (value) => value === 0,
    () => 'has no memory limit (HostConfig.Memory=0)',
  ),
  {
    id: 'cpu-shares',
    cis: '5.12',
    family: 'container',
    title: 'No CPU priority or limit',
    severity: 'low',
    remediation: 'Set --cpu-shares or --cpus.',
    reference: cisReference('5.12'),
    check(target) {
      const hc = hostConfig(target);
      // --cpu-quota limits CPU as --cpus does (docker-bench ignores it and flags such containers).
      const value = { CpuShares: hc.CpuShares ?? 0, NanoCpus: hc.NanoCpus ?? 0, CpuQuota: hc.CpuQuota ?? 0 };
      // CIS 5.12: CpuShares 0 (unset) or 1024 (the default weight, given explicitly) is not in
      // place. Deviation, said in the message: a CPU limit (--cpus, --cpu-quota) counts as in place.
      if ((value.CpuShares !== 0 && value.CpuShares !== 1024) || value.NanoCpus !== 0 || value.CpuQuota > 0) return [];
      const shares = value.CpuShares === 0 ? 'CpuShares=0 (unset)' : 'CpuShares=1024 (the default weight)';
      return [
        hit(
          '',
          `has ${shares} and no CPU limit: not in place by the CIS 5.12 text (quayside also accepts --cpus or --cpu-quota, which CIS does not name)`,
          'HostConfig.CpuShares/NanoCpus/CpuQuota',
          value,
        ),
      ];
    },
  },
  fieldRule(
    {
      id: 'writable-rootfs',
      cis: '5.13',
      title: 'Root filesystem is writable',
      severity: 'low',
      remediation: 'Run with --read-only and mount tmpfs or volumes where the process writes.',
      reference: cisReference('5.13'),
    },
    'HostConfig.ReadonlyRootfs',
    (hc) => hc.ReadonlyRootfs ?? false,
    (value) => value === false,
    () => 'has a writable root filesystem (HostConfig.ReadonlyRootfs=false)',
  ),
  {
    id: 'wildcard-binding',
    cis: '5.14',
    family: 'container',
    title: 'Port published on every host interface',
    severity: 'medium',
    remediation: 'Publish on one host address: -p 127.0.0.1:8080:80.',
    reference: cisReference('5.14'),
    check(target) {
      // "" means every interface too, and :: is the IPv6 wildcard (docker-bench checks only 0.0.0.0).
      return portBindings(target)
        .filter((b) => b.bindings.some((x) => isWildcardAddress(x.HostIp ?? '')))
        .map((b) => hit(b.port, `publishes ${b.port} on every host interface`, b.field, b.value));
    },
  },
  {
    id: 'restart-policy',
    cis: '5.15',
    family: 'container',
    title: 'Restart policy retries without bound',
    severity: 'low',
    remediation: 'Use --restart on-failure:5 (at most 5 retries).',
    reference: cisReference('5.15'),
    check(target) {
      const policy = hostConfig(target).RestartPolicy ?? {};
      const name = policy.Name ?? '';
      // docker-bench passes always and unless-stopped (their count is 0), which retry forever.
      if (name === 'always' || name === 'unless-stopped')
        return [hit('', `restarts ${name}, without a retry bound`, 'HostConfig.RestartPolicy', policy)];
      if (name === 'on-failure' && ((policy.MaximumRetryCount ?? 0) > 5 || (policy.MaximumRetryCount ?? 0) === 0)) {
        return [
          hit(
            '',
            `restarts on failure up to ${policy.MaximumRetryCount || 'unlimited'} times (more than 5)`,
            'HostConfig.RestartPolicy',
            policy,
          ),
        ];
      }
      return [];
    },
  },
  namespaceRule('5.16', 'host-pid', 'PID', 'PidMode', 'high'),
  hostIpcRule(),
  {
    id: 'host-devices',
    cis: '5.18',
    family: 'container',
    title: 'Host devices exposed to the container',
    severity: 'medium',
    remediation:
      'Do not pass host devices with --device unless needed, and then with the least permissions (r, w or m).',
    reference: cisReference('5.18'),
    check(target) {
      const devices = hostConfig(target).Devices ?? [];
      return devices.map((d, i) =>
        hit(
          d.PathInContainer ?? '',
          `exposes host device ${d.PathOnHost} as ${d.PathInContainer} (${d.CgroupPermissions})`,
          `HostConfig.Devices[${i}]`,
          d,
        ),
      );
    },
  },
  fieldRule(
    {
      id: 'default-ulimits',
      cis: '5.19',
      title: 'Default ulimits not overridden',
      severity: 'info',
      offByDefault: true,
      remediation: 'Set --ulimit where the defaults do not fit.',
      reference: cisReference('5.19'),
    },
    'HostConfig.Ulimits',
    (hc) => hc.Ulimits,
    (value) => !value || (value as unknown[]).length === 0,
    () => 'uses the default ulimits',
  ),
  {
    id: 'shared-propagation',
    cis: '5.20',
    family: 'container',
    title: 'Mount propagation set to shared',
    severity: 'medium',
    remediation: 'Use private (the default) or slave propagation.',
    reference: cisReference('5.20'),
    check(target) {
      return mounts(target)
        .filter((m) => (m.Propagation ?? '').includes('shared'))
        .map((m) =>
          hit(
            m.Destination ?? '',
            `mounts ${m.Source} at ${m.Destination} with ${m.Propagation} propagation`,
            `Mounts[${m.index}].Propagation`,
            m.Propagation,
          ),
        );
    },
  },
  namespaceRule('5.21', 'host-uts', 'UTS', 'UTSMode', 'high'),
  {
    id: 'seccomp-unconfined',
    cis: '5.22',
    family: 'container',
    title: 'Default seccomp profile disabled',
    severity: 'high',
    remediation: 'Remove --security-opt seccomp=unconfined (or give a custom profile).',
    reference: cisReference('5.22'),
    check(target) {
      const options = hostConfig(target).SecurityOpt ?? [];
      return options.some((o) => /^seccomp[=:]unconfined$/.test(o))
        ? [
            hit(
              '',
              'runs without the seccomp profile (seccomp=unconfined)',
              'HostConfig.SecurityOpt',
              shownSecurityOptions(options),
            ),
          ]
        : [];
    },
  },
  fieldRule(
    {
      id: 'cgroup-parent',
      cis: '5.25',
      title: 'Container in a non-default cgroup parent (confirm it)',
      severity: 'info',
      remediation: 'Leave --cgroup-parent unset unless the cgroup is meant for it.',
      reference: cisReference('5.25'),
    },
    'HostConfig.CgroupParent',
    (hc) => hc.CgroupParent ?? '',
    (value) => value !== '',
    (value) => `runs under cgroup parent ${String(value)}`,
  ),
  {
    id: 'no-new-privileges',
    cis: '5.26',
    family: 'container',
    title: 'Container may acquire new privileges',
    severity: 'medium',
    remediation:
      'Run with --security-opt no-new-privileges (or set no-new-privileges in daemon.json; that setting is not visible through the API).',
    reference: cisReference('5.26'),
    check(target) {
      const options = hostConfig(target).SecurityOpt ?? [];
      return options.some((o) => /^no-new-privileges(?:[=:]true)?$/.test(o))
        ? []
        : [
            hit(
              '',
              'may gain privileges through setuid binaries (no no-new-privileges)',
              'HostConfig.SecurityOpt',
              shownSecurityOptions(options),
            ),
          ];
    },
  },
  {
    id: 'no-healthcheck',
    cis: '5.27',
    family: 'container',
    title: 'Container has no health check',
    severity: 'low',
    remediation: 'Add a HEALTHCHECK to the image or run with --health-cmd.',
    reference: cisReference('5.27'),
    check(target) {
      // Config.Healthcheck, so that a container is judged at create, before State.Health exists.
      const test = target.info.Config.Healthcheck?.Test;
      return !test || test.length === 0 || test[0] === 'NONE'
        ? [hit('', 'has no health check', 'Config.Healthcheck', target.info.Config.Healthcheck ?? null)]
        : [];
    },
  },
  fieldRule(
    {
      id: 'pids-limit',
      cis: '5.29',
      title: 'No PIDs limit',
      severity: 'medium',
      remediation: 'Set --pids-limit.',
      reference: cisReference('5.29'),
    },
    'HostConfig.PidsLimit',
    (hc) => hc.PidsLimit ?? null,
    // 0 and any negative value mean unlimited, as null does.
    (value) => value === null || (value as number) <= 0,
    (value) => `has no PIDs limit (HostConfig.PidsLimit=${JSON.stringify(value)})`,
  ),
  fieldRule(
    {
      id: 'default-bridge',
      cis: '5.30',
      title: "Container on Docker's default bridge",
      severity: 'info',
      offByDefault: true,
      remediation: 'Attach the container to a user-defined network.',
      reference: cisReference('5.30'),
    },
    'HostConfig.NetworkMode',
    (hc) => hc.NetworkMode ?? '',
    (value) => value === 'default' || value === 'bridge',
    (value) => `uses the default bridge (HostConfig.NetworkMode=${String(value)})`,
  ),
  namespaceRule('5.31', 'host-userns', 'user', 'UsernsMode', 'medium'),
  {
    id: 'docker-socket',
    cis: '5.32',
    family: 'container',
    title: "Docker's (or Podman's) API socket mounted in the container",
    severity: 'critical',
    remediation: 'Do not mount the Docker socket, or a directory holding it; give tools a read-only API proxy instead.',
    reference: cisReference('5.32'),
    check(target) {
      // docker-bench matches the text docker.sock: it misses a mount of /var/run or /run and a symlink.
      return mounts(target)
        .filter((m) => m.Type === 'bind')
        .flatMap((m) => {
          const source = resolvedSource(target, m);
          const socket =
            target.host.dockerSockets.find((s) => isUnder(s, source)) ??
            (ENGINE_SOCKET_NAMES.includes(posix.basename(source)) ? source : undefined);
          if (!socket) return [];
          const how =
            socket === source
              ? `mounts the engine socket ${source}`
              : `mounts ${source}, which holds the engine socket ${socket}`;
          return [
            hit(
              m.Destination ?? '',
              `${how}${through(m)} at ${m.Destination}`,
              `Mounts[${m.index}]`,
              { Source: m.Source, Destination: m.Destination, RW: m.RW },
              source !== m.Source ? { resolvedSource: source } : {},
            ),
          ];
        });
    },
  },
  {
    id: 'container-root-user',
    cis: '4.1',
    family: 'container',
    title: 'Container runs as root',
    severity: 'medium',
    remediation: 'Create a user in the image (USER) or run with --user <uid>.',
    reference: cisReference('4.1'),
    check(target) {
      const user = target.info.Config.User ?? '';
      return isRootUser(user)
        ? [hit('', `runs as root (Config.User=${JSON.stringify(user)})`, 'Config.User', user)]
        : [];
    },
  },
  {
    id: 'sensitive-mount',
    family: 'container',
    title: 'Container mounts a sensitive host path (Falco: Launch Sensitive Mount Container)',
    severity: 'high',
    remediation: 'Do not mount host paths such as /proc, /etc, /root or runtime sockets, even read-only.',
    reference: 'Falco rule "Launch Sensitive Mount Container"',
    check(target) {
      const exact = [...FALCO_SENSITIVE_MOUNTS, ...target.host.dockerSockets];
      const trees = [...FALCO_SENSITIVE_TREES, ...SENSITIVE_HOST_FILES];
      return mounts(target)
        .filter((m) => m.Type === 'bind')
        .flatMap((m) => {
          const source = resolvedSource(target, m);
          const match = exact.includes(source) || trees.some((p) => isUnder(source, p));
          if (!match) return [];
          return [
            hit(
              m.Destination ?? '',
              `mounts host ${source}${through(m)} at ${m.Destination}${m.RW ? '' : ' (read-only)'}`,
              `Mounts[${m.index}]`,
              { Source: m.Source, Destination: m.Destination, RW: m.RW },
              { ...(source !== m.Source ? { resolvedSource: source } : {}), ...(m.volume ? { volume: m.volume } : {}) },
            ),
          ];
        });
    },
  },
  {
    id: 'disallowed-image',
    family: 'container',
    title: 'Container from an image not on the allow-list (Falco: Launch Disallowed Container)',
    severity: 'high',
    remediation: 'Run images from the allowed repositories, or add the image to images.allow in the policy.',
    reference: 'Falco rule "Launch Disallowed Container"',
    check(target) {
      if (!target.hasImageAllowList) return [];
      const image = target.info.Config.Image ?? '';
      if ([image, ...target.imageAliases].some(target.allowedImages)) return [];
      return [
        hit(
          '',
          `runs image ${image}, which the policy does not allow`,
          'Config.Image',
          image,
          target.imageAliases.length > 0 ? { imageTags: target.imageAliases } : {},
        ),
      ];
    },
  },
];

/** Every interface: empty, 0.0.0.0, or the IPv6 unspecified address however written (::, [::], 0:0:0:0:0:0:0:0). */
function isWildcardAddress(address: string): boolean {
  const ip = address.trim().replace(/^\[(.*)\]$/, '$1');
  return ip === '' || /^0+(?:\.0+){3}$/.test(ip) || (ip.includes(':') && /^[0:]+$/.test(ip));
}

interface PortBinding {
  port: string;
  /** Host ports it is published on (0 for a random one). */
  hostPorts: number[];
  bindings: Array<{ HostIp?: string; HostPort?: string }>;
  /** The inspect field that publishes it, and that field's value. */
  field: string;
  value: unknown;
}

/**
 * One entry per published container port, with all its host bindings. `docker run -P` leaves
 * PortBindings empty and publishes every exposed port on a random port of every interface
 * (docker-bench sees those only through `docker port` of a running container).
 */
function portBindings(target: ContainerTarget): PortBinding[] {
  const hc = hostConfig(target);
  const explicit = Object.entries(hc.PortBindings ?? {})
    .filter(([, bindings]) => (bindings ?? []).length > 0)
    .map(([port, bindings]): PortBinding => ({
      port,
      bindings: bindings ?? [],
      hostPorts: (bindings ?? []).map((b) => Number.parseInt(b.HostPort ?? '', 10) || 0),
      field: `HostConfig.PortBindings["${port}"]`,
      value: bindings,
    }));
  if (hc.PublishAllPorts !== true) return explicit;
  const exposed = Object.keys(
    (target.info.Config as { ExposedPorts?: Record<string, unknown> | null }).ExposedPorts ?? {},
  );
  const all = exposed
    .filter((port) => !explicit.some((b) => b.port === port))
    .map((port): PortBinding => ({
      port,
      bindings: [{ HostIp: '', HostPort: '' }],
      hostPorts: [0],
      field: 'HostConfig.PublishAllPorts',
      value: { PublishAllPorts: true, ExposedPort: port },
    }));
  return [...explicit, ...all];
}
