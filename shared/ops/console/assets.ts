/**
 * The page's files, built by esbuild into dist/console at `npm run build` (see
 * shared/ops/console/ui/build.mjs): read once and kept in memory (tens of kB), served with their
 * digest as ETag. Nothing comes from anywhere else: the page works offline.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file the page loads, by the name in its URL; nothing else is served. */
const FILES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** dist/console of this package, from the source (tests run through tsx) or from dist. */
function assetsDir(): string | undefined {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const built = join(dir, 'dist', 'console');
    if (existsSync(join(built, 'app.js'))) return built;
  }
  return undefined;
}

export class ConsoleAssets {
  private readonly cache = new Map<string, Asset>();

  constructor(private readonly dir = assetsDir()) {}

  /** Undefined for a name that is not one of the page's files; throws when the build is missing. */
  get(name: string): Asset | undefined {
    const type = FILES[name];
    if (type === undefined) return undefined;
    let asset = this.cache.get(name);
    if (!asset) {
      if (!this.dir) throw new Error('the console was not built (dist/console is missing): run npm run build');
      const body = readFileSync(join(this.dir, name));
      asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      this.cache.set(name, asset);
    }
    return asset;
  }
}
