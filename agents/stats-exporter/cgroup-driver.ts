/**
 * The engine's cgroup driver (`docker info`), only needed to name the cgroup of a container whose
 * init process cannot be looked at (stopped, or the host's /proc not visible). Asked in the
 * background and asked again while unknown (the engine was down when we first asked), so a
 * stopped container is not labelled the cgroupfs way for ever on a systemd host.
 */
import type Dockerode from 'dockerode';
import { errorMessage, silentLogger, type Logger } from '../../shared/ops/logger';

export type CgroupDriver = 'cgroupfs' | 'systemd';

export class EngineCgroupDriver {
  private known: CgroupDriver | undefined;
  private asking: Promise<void> | undefined;

  constructor(
    private readonly docker: Pick<Dockerode, 'info'>,
    private readonly logger: Logger = silentLogger,
  ) {}

  get value(): CgroupDriver | undefined {
    return this.known;
  }

  /**
   * Asks the engine unless it already told us; never rejects, and resolves after `waitMs` at the
   * latest (a sync must not hang on a hung engine; the question goes on in the background).
   */
  refresh(waitMs = 5_000): Promise<void> {
    if (this.known) return Promise.resolve();
    if (!this.asking) {
      const asking: Promise<void> = this.docker
        .info()
        .then((info: { CgroupDriver?: string }) => {
          if (info.CgroupDriver === 'cgroupfs' || info.CgroupDriver === 'systemd') this.known = info.CgroupDriver;
        })
        .catch((error: unknown) => {
          this.logger.debug('cannot read the cgroup driver yet', { error: errorMessage(error) });
        })
        .finally(() => {
          this.asking = undefined;
        });
      this.asking = asking;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    return Promise.race([this.asking, deadline]).finally(() => clearTimeout(timer));
  }
}
