/** A Dockerfile that BuildKit would refuse, and the line where. */
export class DockerfileSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'DockerfileSyntaxError';
  }
}
