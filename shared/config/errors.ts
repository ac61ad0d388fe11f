/** Bad configuration: the one reason to exit (with code 2). The message names the option or file. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * An expected failure that ends the process with code 1, said in one line without a stack: a
 * backend that never answered within the retries it was given, for instance.
 */
export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FatalError';
  }
}
