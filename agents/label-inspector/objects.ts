/** Docker objects as label targets. */
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import type { FindingObject } from '../../shared/findings/finding';
import type { LabelTarget } from './target';

function imageObject(id: string, repoTags: readonly string[] | null | undefined): FindingObject {
  const tag = (repoTags ?? []).find((t) => t !== '<none>:<none>');
  return { kind: 'image', id, name: tag ?? id.replace(/^sha256:/, '').slice(0, 12), image: '' };
}

export function imageTarget(
  id: string,
  repoTags: readonly string[] | null | undefined,
  labels: Record<string, string> | null | undefined,
): LabelTarget {
  return { object: imageObject(id, repoTags), labels: labels ?? {}, requireKeys: true };
}

/**
 * A container's own labels: those set when it was created, not those it inherits unchanged from
 * its image (which the image's findings already cover).
 */
export function containerTarget(
  container: { id: string; name: string; image: string },
  labels: Record<string, string> | null | undefined,
  imageLabels: Readonly<Record<string, string>> | undefined,
): LabelTarget {
  const own = Object.fromEntries(Object.entries(labels ?? {}).filter(([key, value]) => imageLabels?.[key] !== value));
  return {
    object: { kind: 'container', id: container.id, name: container.name, image: container.image },
    labels: own,
    requireKeys: false,
  };
}

export function listedContainerName(info: Pick<Dockerode.ContainerInfo, 'Names' | 'Id'>): string {
  return containerName(info.Names[0] ?? info.Id.slice(0, 12));
}
