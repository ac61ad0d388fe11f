/** The docker CLI against the test engine (env.DOCKER_HOST picks another), for what the API makes long-winded (builds). */
import { spawn } from 'node:child_process';
import { testEnv } from './test-env';

export function dockerCli(args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      env: { ...process.env, DOCKER_HOST: testEnv().docker.host, DOCKER_BUILDKIT: '0', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout.trim()) : reject(new Error(`docker ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
    child.stdin.end(stdin ?? '');
  });
}

/** Builds an image from a Dockerfile text with no build context; returns its ID. */
export async function buildImage(tag: string, dockerfile: string): Promise<string> {
  await dockerCli(['build', '-q', '-t', tag, '-'], dockerfile);
  return dockerCli(['image', 'inspect', '--format', '{{.Id}}', tag]);
}
