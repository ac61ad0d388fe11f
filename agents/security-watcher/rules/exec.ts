/**
 * Falco's container rules that the Docker API can see: what `docker exec` runs (from
 * GET /exec/{id}/json), a container started as an interactive shell, and `docker cp` into a
 * container. Processes spawned inside a container are invisible to the API; these rules see only
 * the exec'd command and the container's own command.
 */
import { posix } from 'node:path';
import type { ContainerTarget, EventTarget, ExecTarget } from '../target';
import { redactCommand, redactText } from '../redact';
import { cisReference, hit, isRootUser, type SecurityRule } from './rule';
import { analyzeCommand, renamedFrom, SHELLS, type CommandAnalysis, type LaunchedProgram } from './shell';

const PACKAGE_MANAGERS = [
  'apt',
  'apt-get',
  'aptitude',
  'dpkg',
  'rpm',
  'yum',
  'dnf',
  'microdnf',
  'zypper',
  'apk',
  'pip',
  'pip3',
  'gem',
  'npm',
  'yarn',
  'pnpm',
  'snap',
  'pacman',
  'update-alternatives',
];
const NETWORK_TOOLS = [
  'nc',
  'ncat',
  'netcat',
  'nmap',
  'dig',
  'tcpdump',
  'tshark',
  'ngrep',
  'telnet',
  'mitmproxy',
  'socat',
  'zmap',
];
const REMOTE_COPY_TOOLS = ['rsync', 'scp', 'sftp', 'dcp', 'wget'];
/** Where anyone in a container can write: a program run from here was dropped there (Falco: "Drop and execute new binary"). */
const WRITABLE_DIRS = ['/tmp', '/var/tmp', '/dev/shm', '/run', '/var/run'];
/** Programs whose renamed copies (`/tmp/busybox2`, `sh.bak`) are an attempt to run them unseen. */
const WATCHED_PROGRAMS = ['busybox', ...SHELLS, ...PACKAGE_MANAGERS, ...NETWORK_TOOLS, ...REMOTE_COPY_TOOLS, 'curl'];

const analyses = new WeakMap<ExecTarget['process'], CommandAnalysis>();

/** The exec's command analysed once for every rule (a script is parsed once, not once per rule). */
function execAnalysis(target: ExecTarget): CommandAnalysis {
  let analysis = analyses.get(target.process);
  if (!analysis) {
    const stdin = target.process.tty ? 'terminal' : target.process.openStdin ? 'data' : 'none';
    analysis = analyzeCommand(target.process.entrypoint, target.process.arguments, stdin);
    analyses.set(target.process, analysis);
  }
  return analysis;
}

/** The programs a command line starts (the entrypoint, what wrappers run, every command of an `sh -c` script). */
export function launchedPrograms(entrypoint: string, args: readonly string[]): LaunchedProgram[] {
  return analyzeCommand(entrypoint, args).launched;
}

function isUnderDir(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

const redactedCommands = new WeakMap<ExecTarget['process'], string[]>();

/** The exec's command with secret values masked (evidence travels to logs and webhooks), masked once for every rule. */
function redactedCommand(target: ExecTarget): string[] {
  let words = redactedCommands.get(target.process);
  if (!words) {
    words = redactCommand([target.process.entrypoint, ...target.process.arguments]);
    redactedCommands.set(target.process, words);
  }
  return words;
}

/** The exec's command for messages. */
function commandLine(target: ExecTarget): string {
  return redactedCommand(target).join(' ');
}

/** ProcessConfig as evidence, its arguments masked like the command line. */
function shownProcess(target: ExecTarget): ExecTarget['process'] {
  return { ...target.process, arguments: redactedCommand(target).slice(1) };
}

function toolRule(
  id: string,
  title: string,
  severity: ExecRule['severity'],
  tools: readonly string[],
  what: string,
  reference: string,
  extra?: (program: string, words: string[]) => boolean,
): ExecRule {
  return {
    id,
    family: 'exec',
    title,
    severity,
    remediation: `Do not run ${what} in running containers; build them into the image, or use a debug container.`,
    reference,
    check(target) {
      const found = execAnalysis(target).launched.find(
        ({ program, words }) => tools.includes(program) || extra?.(program, words) === true,
      );
      return found
        ? [
            hit(
              `exec ${target.execId}`,
              `docker exec ran ${what} ${found.program}: ${commandLine(target)}`,
              'ProcessConfig',
              shownProcess(target),
            ),
          ]
        : [];
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
      if (
        !target.process.tty ||
        !execAnalysis(target).launched.some(({ program }) => SHELLS.includes(program) || renamedFrom(program, SHELLS))
      )
        return [];
      return [
        hit(
          `exec ${target.execId}`,
          `docker exec opened a shell with a terminal: ${commandLine(target)}`,
          'ProcessConfig.tty',
          true,
          { entrypoint: target.process.entrypoint },
        ),
      ];
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
      return target.process.privileged
        ? [
            hit(
              `exec ${target.execId}`,
              `docker exec --privileged ran ${commandLine(target)}`,
              'ProcessConfig.privileged',
              true,
            ),
          ]
        : [];
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
      return [
        hit(
          `exec ${target.execId}`,
          `docker exec ran as root (${field}=${JSON.stringify(user)}): ${commandLine(target)}`,
          field,
          user,
        ),
      ];
    },
  },
  toolRule(
    'package-manager-exec',
    'Package manager run in a container (Falco: Launch Package Management Process in Container)',
    'high',
    PACKAGE_MANAGERS,
    'the package manager',
    'Falco rule "Launch Package Management Process in Container"',
  ),
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
    (program, words) =>
      program === 'curl' &&
      words.some((w) => /^(?:-[a-zA-Z]*[oO]\S*|--output(?:=.*)?|--remote-name(?:-all)?)$/.test(w)),
  ),
  {
    id: 'drop-and-execute',
    family: 'exec',
    title: 'Program run from a writable path or as a renamed copy (Falco: Drop and execute new binary)',
    severity: 'high',
    remediation: 'Ship programs in the image; find out who put this one in the container.',
    reference: 'Falco rule "Drop and execute new binary in container"',
    check(target) {
      // Falco sees the binary come from the container's upper layer; the API sees only the path
      // and name it is run by: a writable directory, or a known program's name with a suffix.
      const dropped = execAnalysis(target).launched.flatMap(({ program, path }) => {
        const dir = WRITABLE_DIRS.find((d) => isUnderDir(path, d));
        const original = renamedFrom(program, WATCHED_PROGRAMS);
        if (!dir && !original) return [];
        return [
          `${path} (${[dir ? `from the writable ${dir}` : '', original ? `a renamed copy of ${original}` : ''].filter(Boolean).join(', ')})`,
        ];
      });
      if (dropped.length === 0) return [];
      return [
        hit(
          `exec ${target.execId}`,
          `docker exec ran ${dropped.join(', ')}: ${commandLine(target)}`,
          'ProcessConfig',
          shownProcess(target),
          { programs: dropped },
        ),
      ];
    },
  },
  {
    id: 'undecidable-exec',
    family: 'exec',
    title: 'docker exec ran commands that cannot be known before they run (eval, variable program, script from stdin)',
    severity: 'medium',
    remediation:
      'Run named programs with literal arguments; treat this exec as suspect until someone says what it ran.',
    reference:
      'Falco rules judge the processes that run; the Docker API shows only the command, so what it hides is reported',
    check(target) {
      const { undecidable } = execAnalysis(target);
      if (undecidable.length === 0) return [];
      const shown = undecidable.map((u) => redactText(u));
      return [
        hit(
          `exec ${target.execId}`,
          `docker exec ran what only run time decides (${shown.join('; ')}): ${commandLine(target)}`,
          'ProcessConfig',
          shownProcess(target),
          { undecidable: shown },
        ),
      ];
    },
  },
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
    return [
      hit('', `runs ${target.info.Path} with a terminal (Config.Tty=true, Config.OpenStdin=true)`, 'Config.Tty', true, {
        Path: target.info.Path,
      }),
    ];
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
      return [
        hit(`copy ${target.timeNano}`, 'docker cp copied files into the container', 'event.Action', target.action),
      ];
    },
  },
];
