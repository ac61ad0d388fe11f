/**
 * `<VARIABLE>_FILE` for options that carry secrets: `QUAYSIDE_API_TOKEN_FILE=/run/secrets/token`
 * reads the value from a file, as Docker and Kubernetes secrets are mounted, and as the official
 * images of databases and Consul (`CONSUL_HTTP_TOKEN_FILE`) read theirs. The value never has to
 * sit in the container's environment, where `docker inspect` shows it to anyone with the socket.
 */
import { ConfigError } from './errors';
import { FileTooLargeError, formatBytes, readBoundedText } from './files';

/** Tokens, passwords and route lists are short; anything bigger is the wrong file. */
const SECRET_FILE_MAX_BYTES = 64 * 1024;

export function secretFileVariable(variable: string): string {
  return `${variable}_FILE`;
}

/** The secret in the file `variable` names, without the line break editors and `echo` leave at its end. */
export function readSecretFile(variable: string, file: string): string {
  let text: string;
  try {
    text = readBoundedText(file, SECRET_FILE_MAX_BYTES);
  } catch (error) {
    const reason =
      error instanceof FileTooLargeError
        ? `is larger than ${formatBytes(SECRET_FILE_MAX_BYTES)}`
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new ConfigError(`${variable}: the file ${file} ${reason}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(`${variable}: the file ${file} is empty`);
  return value;
}
