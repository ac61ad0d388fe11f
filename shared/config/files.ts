/** Reading a configuration file the user names, never more of it than such a file can need. */
import { closeSync, openSync, readSync } from 'node:fs';

export class FileTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${formatBytes(limit)}, the most this file may have`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * The file's text, read up to `maxBytes` and no further: a larger file (or a device or pipe that
 * never ends) throws FileTooLargeError without being held in memory. Other errors are fs errors.
 */
export function readBoundedText(file: string, maxBytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
