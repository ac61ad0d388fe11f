/** Bad configuration: the one reason to exit (with code 2). The message names the option or file. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
