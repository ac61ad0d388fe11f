import { accessSync, constants, mkdirSync } from 'node:fs';
import { ConfigError } from '../config/errors';

/** Creates the state folder if needed and checks it is writable, naming the option when not. */
export function prepareStateDir(path: string): string {
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (error) {
    throw new ConfigError(
      `--state-dir (QUAYSIDE_STATE_DIR) '${path}' is not a writable folder: ${(error as Error).message}`,
    );
  }
  return path;
}
