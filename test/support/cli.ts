/** Runs the built `quayside` CLI (dist/, built by `npm run build` before the tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quayside ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Where a test's agent listens and keeps its state, and whether it logs JSON lines for the test to read. */
export interface AgentStart {
  /** On 127.0.0.1 unless `host` is given; 0 for any free port. */
  port: number;
  host?: string;
  stateDir?: string;
  jsonLogs?: boolean;
}

/** `agent --listen host:port [--state-dir dir] [--log-format json] ...more`: the start arguments tests share. */
export function agentArgs(agent: string, start: AgentStart, ...more: string[]): string[] {
  return [
    agent,
    '--listen',
    `${start.host ?? '127.0.0.1'}:${start.port}`,
    ...(start.stateDir === undefined ? [] : ['--state-dir', start.stateDir]),
    ...(start.jsonLogs ? ['--log-format', 'json'] : []),
    ...more,
  ];
}

/** Starts the CLI in the background; the caller stops it. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's output as it arrives. */
export function capture(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return { stdout: () => stdout, stderr: () => stderr };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
