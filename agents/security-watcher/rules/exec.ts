/**
 * Falco's container rules that the Docker API can see: what `docker exec` runs (from
 * GET /exec/{id}/json), a container started as an interactive shell, and `docker cp` into a
 * container. Processes spawned inside a container are invisible to the API; these rules see only
 * the exec'd command and the container's own command.
 */
import { posix } from 'node:path';
import type { ContainerTarget, EventTarget, ExecTarget } from '../target';
import { redactCommand } from '../redact';
import { cisReference, hit, isRootUser, type SecurityRule } from './rule';

export const SHELLS = ['ash', 'bash', 'csh', 'ksh', 'sh', 'tcsh', 'zsh', 'dash'];
export const PACKAGE_MANAGERS = ['apt', 'apt-get', 'aptitude', 'dpkg', 'rpm', 'yum', 'dnf', 'microdnf', 'zypper', 'apk', 'pip', 'pip3', 'gem', 'npm', 'yarn', 'pnpm', 'snap', 'pacman', 'update-alternatives'];
export const NETWORK_TOOLS = ['nc', 'ncat', 'netcat', 'nmap', 'dig', 'tcpdump', 'tshark', 'ngrep', 'telnet', 'mitmproxy', 'socat', 'zmap'];
/** Programs that run the program named in their arguments. */
/** Wrappers in wrappers (`sudo env nice cmd`) are followed this deep. */
const MAX_WRAPPERS = 8;
const WRAPPER_FLAGS_WITH_VALUE = ['-u', '-g', '-U', '-C', '-D', '-h', '-p', '-R', '-r', '-T', '-t', '-n', '-s', '-k', '-S'];
const WRAPPERS = ['env', 'sudo', 'doas', 'nohup', 'time', 'timeout', 'nice', 'ionice', 'setsid', 'stdbuf', 'exec', 'command', 'busybox'];
export const REMOTE_COPY_TOOLS = ['rsync', 'scp', 'sftp', 'dcp', 'wget'];

/**
 * The programs a command line starts: the entrypoint, and for `sh -c SCRIPT` the first word of
 * each command of the script (split at ; & | ` $( and newlines, skipping VAR=value and sudo/env).
 */
export function launchedPrograms(entrypoint: string, args: readonly string[], depth = 0): Array<{ program: string; words: string[] }> {
  const programs = [{ program: posix.basename(entrypoint), words: [...args] }];
  // `env TOKEN=x npm install`, `sudo -u app apt-get …`, `busybox wget …`: the wrapped program runs
  // too. Indexes, not shifts, and a bounded depth: an exec's arguments are anyone's input.
  if (WRAPPERS.includes(posix.basename(entrypoint))) {
    let i = 0;
    while (i < args.length && (args[i]!.startsWith('-') || /^\w+=/.test(args[i]!) || /^\d+(?:\.\d+)?[smhd]?$/.test(args[i]!))) {
      // `sudo -u app`, `env -u VAR`, `nice -n 5`, `timeout -s KILL`: these flags take the next word.
      i += WRAPPER_FLAGS_WITH_VALUE.includes(args[i]!) ? 2 : 1;
    }
    if (i < args.length && depth < MAX_WRAPPERS) programs.push(...launchedPrograms(args[i]!, args.slice(i + 1), depth + 1));
    return programs;
  }
  // `-c`, or combined short options that include it: `bash -lc`, `sh -ec`, `bash -xc`.
  const commandFlag = args.findIndex((a) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a));
  const script = SHELLS.includes(posix.basename(entrypoint)) && commandFlag >= 0 ? args[commandFlag + 1] : undefined;
  if (script !== undefined) {
    for (const segment of script.split(/;|&&?|\|\|?|`|\$\(|\n|\(|\)/)) {
      // Quotes around a word do not change the program it names (`'apt-get' install`).
      const words = segment.trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'));
      let i = 0;
      while (i < words.length && (/^\w+=/.test(words[i]!) || WRAPPERS.includes(words[i]!))) i += 1;
      if (i < words.length) programs.push({ program: posix.basename(words[i]!), words: words.slice(i + 1) });
    }
  }
  return programs;
}

/** The exec's command for messages, with secret values masked (evidence travels to logs and webhooks). */
function commandLine(target: ExecTarget): string {
  return redactCommand([target.process.entrypoint, ...target.process.arguments]).join(' ');
}

/** ProcessConfig as evidence, its arguments masked like the command line. */
function shownProcess(target: ExecTarget): ExecTarget['process'] {
  return { ...target.process, arguments: redactCommand([target.process.entrypoint, ...target.process.arguments]).slice(1) };
}

function toolRule(id: string, title: string, severity: ExecRule['severity'], tools: readonly string[], what: string, reference: string, extra?: (program: string, words: string[]) => boolean): ExecRule {
  return {
    id,
    family: 'exec',
    title,
    severity,
    remediation: `Do not run ${what} in running containers; build them into the image, or use a debug container.`,
    reference,
    check(target) {
      const launched = launchedPrograms(target.process.entrypoint, target.process.arguments);
      const found = launched.find(({ program, words }) => tools.includes(program) || extra?.(program, words) === true);
      return found ? [hit(`exec ${target.execId}`, `docker exec ran ${what} ${found.program}: ${commandLine(target)}`, 'ProcessConfig', shownProcess(target))] : [];
    },
  };
}

type ExecRule = SecurityRule<ExecTarget>;

export const EXEC_RULES: readonly ExecRule[] = [
  {
    id: 'terminal-shell',
    family: 'exec',
    title: 'Interactive shell in a container (Falco: Terminal shell in container)',
    severity: 'high',
    remediation: 'Do not open shells in production containers; investigate who did and why.',
    reference: 'Falco rule "Terminal shell in container"',
    check(target) {
      // The TTY is what tells a person at a terminal from a script (and from health checks, which never have one).
      // `docker exec -it c env bash` or `busybox sh` opens the shell through a wrapper.
      if (!target.process.tty || !launchedPrograms(target.process.entrypoint, target.process.arguments).some(({ program }) => SHELLS.includes(program))) return [];
      return [hit(`exec ${target.execId}`, `docker exec opened a shell with a terminal: ${commandLine(target)}`, 'ProcessConfig.tty', true, { entrypoint: target.process.entrypoint })];
    },
  },
  {
    id: 'privileged-exec',
    cis: '5.23',
    family: 'exec',
    title: 'docker exec with --privileged',
    severity: 'high',
    remediation: 'Do not use docker exec --privileged.',
    reference: cisReference('5.23'),
    check(target) {
      return target.process.privileged ? [hit(`exec ${target.execId}`, `docker exec --privileged ran ${commandLine(target)}`, 'ProcessConfig.privileged', true)] : [];
    },
  },
  {
    id: 'root-exec',
    cis: '5.24',
    family: 'exec',
    title: 'docker exec as root',
    severity: 'medium',
    remediation: 'Run docker exec with --user <non-root user>.',
    reference: cisReference('5.24'),
    check(target) {
      // An exec without a user inherits the container's (ProcessConfig.user is then absent).
      const explicit = target.process.user !== undefined && target.process.user !== '';
      const user = explicit ? target.process.user! : target.containerUser;
      if (!isRootUser(user)) return [];
      const field = explicit ? 'ProcessConfig.user' : 'Config.User';
      return [hit(`exec ${target.execId}`, `docker exec ran as root (${field}=${JSON.stringify(user)}): ${commandLine(target)}`, field, user)];
    },
  },
  toolRule('package-manager-exec', 'Package manager run in a container (Falco: Launch Package Management Process in Container)', 'high', PACKAGE_MANAGERS, 'the package manager', 'Falco rule "Launch Package Management Process in Container"'),
  toolRule(
    'network-tool-exec',
    'Network tool run in a container (Falco: Launch Suspicious Network Tool in Container)',
    'medium',
    NETWORK_TOOLS,
    'the network tool',
    'Falco rule "Launch Suspicious Network Tool in Container"',
  ),
  toolRule(
    'remote-copy-exec',
    'Remote file copy tool run in a container (Falco: Launch (Ingress) Remote File Copy Tools in Container)',
    'medium',
    REMOTE_COPY_TOOLS,
    'the remote copy tool',
    'Falco rules "Launch Remote File Copy Tools in Container", "Launch Ingress Remote File Copy Tools in Container"',
    (program, words) => program === 'curl' && words.some((w) => /^(?:-[a-zA-Z]*[oO]\S*|--output(?:=.*)?|--remote-name(?:-all)?)$/.test(w)),
  ),
];

/** A container whose own command is an interactive shell (`docker run -it image sh`). */
export const CONTAINER_SHELL_RULE: SecurityRule<ContainerTarget> = {
  id: 'terminal-shell-container',
  family: 'container',
  title: 'Container started as an interactive shell (Falco: Terminal shell in container)',
  severity: 'medium',
  remediation: 'Run services, not shells, in long-lived containers.',
  reference: 'Falco rule "Terminal shell in container"',
  check(target) {
    const config = target.info.Config;
    if (!config.Tty || !config.OpenStdin || !SHELLS.includes(posix.basename(target.info.Path ?? ''))) return [];
    return [hit('', `runs ${target.info.Path} with a terminal (Config.Tty=true, Config.OpenStdin=true)`, 'Config.Tty', true, { Path: target.info.Path })];
  },
};

export const EVENT_RULES: readonly SecurityRule<EventTarget>[] = [
  {
    id: 'docker-cp-into-container',
    family: 'event',
    title: 'Files copied into a container with docker cp',
    severity: 'medium',
    remediation: 'Ship files in the image or a volume; copying into a running container is drift.',
    reference: 'Falco "Container Drift Detected" (which misses docker cp); Docker event extract-to-dir',
    check(target) {
      if (target.action !== 'extract-to-dir') return [];
      return [hit(`copy ${target.timeNano}`, 'docker cp copied files into the container', 'event.Action', target.action)];
    },
  },
];
