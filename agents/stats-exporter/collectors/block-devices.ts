/**
 * Names block devices as cAdvisor does (`/dev/sda`) from their `major:minor` numbers, via
 * `/sys/dev/block/<major>:<minor>/uevent`. Names are cached: devices rarely come and go, and a
 * scrape must not re-read sysfs for every container.
 */
import { join } from 'node:path';
import { readOptionalText } from './files';

export class BlockDeviceNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly sysDevBlock = '/sys/dev/block') {}

  /** `/dev/<name>`, or `major:minor` when sysfs does not know the device (or is not mounted). */
  nameOf(majorMinor: string): string {
    let name = this.names.get(majorMinor);
    if (name === undefined) {
      name = this.lookup(majorMinor) ?? majorMinor;
      this.names.set(majorMinor, name);
    }
    return name;
  }

  private lookup(majorMinor: string): string | undefined {
    try {
      const uevent = readOptionalText(join(this.sysDevBlock, majorMinor, 'uevent'));
      const devName = uevent && /^DEVNAME=(.+)$/m.exec(uevent)?.[1];
      return devName ? `/dev/${devName}` : undefined;
    } catch {
      return undefined;
    }
  }
}
