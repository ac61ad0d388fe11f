import type { FindingObject } from '../../shared/findings/finding';

/** Labels of one object to check. */
export interface LabelTarget {
  object: FindingObject;
  labels: Readonly<Record<string, string>>;
  /** Keys whose values hold build variables we could not resolve (Dockerfiles). */
  unresolved?: ReadonlySet<string>;
  /** Where each key was set (Dockerfiles), for evidence and SARIF locations. */
  lines?: Readonly<Record<string, number>>;
  /** Check required keys (images and Dockerfiles; a container inherits its image's). */
  requireKeys: boolean;
}
