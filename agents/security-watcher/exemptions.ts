/** Which findings an exemption waives: every condition it gives (image, name, label) must match. */
import { globToRegExp } from '../../shared/glob';
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
  private readonly compiled: Array<Exemption & { imageRe?: RegExp; nameRe?: RegExp }>;

  constructor(exemptions: readonly Exemption[]) {
    this.compiled = exemptions.map((e) => ({ ...e, imageRe: e.image ? globToRegExp(e.image) : undefined, nameRe: e.name ? globToRegExp(e.name) : undefined }));
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

/** An untagged reference is `:latest`, so `busybox:*` matches `busybox` too. */
export function imageMatches(glob: RegExp, image: string): boolean {
  if (glob.test(image)) return true;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  return !lastPart.includes(':') && !lastPart.includes('@') && glob.test(`${image}:latest`);
}
