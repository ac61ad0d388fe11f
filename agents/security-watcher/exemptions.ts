/** Which findings an exemption waives: every condition it gives (image, name, label) must match. */
import { compileGlob, type Glob } from '../../shared/glob';
import type { Exemption } from './policy';

/** What exemptions are matched against. */
export interface ExemptionSubject {
  /** Container name, or the image's tags. */
  names: readonly string[];
  /** The image references the object is known by (a container's Config.Image, an image's tags). */
  images: readonly string[];
  labels: Readonly<Record<string, string>>;
}

export class Exemptions {
  private readonly compiled: Array<Exemption & { imageRe?: Glob; nameRe?: Glob }>;

  constructor(exemptions: readonly Exemption[]) {
    this.compiled = exemptions.map((e) => ({
      ...e,
      imageRe: e.image ? compileGlob(e.image) : undefined,
      nameRe: e.name ? compileGlob(e.name) : undefined,
    }));
  }

  /** The exemption that waives `ruleId` for this object, if any. */
  find(ruleId: string, subject: ExemptionSubject): Exemption | undefined {
    return this.compiled.find((e) => {
      if (e.rules.length > 0 && !e.rules.includes(ruleId)) return false;
      if (e.imageRe && !subject.images.some((image) => imageMatches(e.imageRe!, image))) return false;
      if (e.nameRe && !subject.names.some((name) => e.nameRe!.test(name))) return false;
      if (e.label) {
        const value = subject.labels[e.label.key];
        if (value === undefined || (e.label.value !== undefined && value !== e.label.value)) return false;
      }
      return true;
    });
  }
}

/**
 * True when the glob matches the image reference in any of its spellings: as given, short
 * (`nginx`) and fully qualified (`docker.io/library/nginx`), and an untagged one as `:latest`.
 * A container names its image as it was run, so `nginx:*` must also cover
 * `docker.io/library/nginx:1.25`, or an exemption silently stops holding.
 */
export function imageMatches(glob: Glob, image: string): boolean {
  return referenceSpellings(image).some((spelling) => glob.test(spelling));
}

const DOCKER_HUB = /^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//;

function referenceSpellings(image: string): string[] {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at) : '';
  let name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  let tag = '';
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon);
    name = name.slice(0, colon);
  }
  const names = new Set([name]);
  const first = name.split('/')[0]!;
  const onHub =
    DOCKER_HUB.test(name) ||
    !name.includes('/') ||
    !(first.includes('.') || first.includes(':') || first === 'localhost');
  if (onHub) {
    const short = name.replace(DOCKER_HUB, '').replace(/^library\/(?=[^/]+$)/, '');
    names.add(short);
    names.add(`docker.io/${short.includes('/') ? short : `library/${short}`}`);
  }
  const tags = new Set([tag]);
  if (!digest && (tag === '' || tag === ':latest')) {
    tags.add(':latest');
    tags.add('');
  }
  const out = new Set([image]);
  for (const n of names) for (const t of tags) out.add(`${n}${t}${digest}`);
  return [...out];
}
