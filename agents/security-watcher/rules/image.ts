/** CIS Docker Benchmark 1.6.0 section 4 checks that an image's inspect and history decide. */
import type { ImageTarget } from '../target';
import { redactText } from '../redact';
import { cisReference, hit, isRootUser, type SecurityRule } from './rule';

type ImageRule = SecurityRule<ImageTarget>;

/**
 * Each history entry's `CreatedBy` (`#(nop) ADD …`; a RUN is a shell line), and as evidence may
 * show it: a RUN records its build args (`|1 NPM_TOKEN=… /bin/sh -c …`), whose values are masked.
 */
function instructions(target: ImageTarget): Array<{ index: number; text: string; shown: string }> {
  return (target.history ?? []).map((text, index) => ({ index, text: text.trim(), shown: redactText(text.trim()) }));
}

export const IMAGE_RULES: readonly ImageRule[] = [
  {
    id: 'image-root-user',
    cis: '4.1',
    family: 'image',
    title: 'Image runs as root',
    severity: 'medium',
    remediation: 'Create a user in the Dockerfile (RUN adduser …) and switch to it with USER.',
    reference: cisReference('4.1'),
    check(target) {
      const user = target.info.Config?.User ?? '';
      return isRootUser(user)
        ? [hit('', `runs as root (Config.User=${JSON.stringify(user)})`, 'Config.User', user)]
        : [];
    },
  },
  {
    id: 'image-healthcheck',
    cis: '4.6',
    family: 'image',
    title: 'Image has no HEALTHCHECK',
    severity: 'low',
    remediation: 'Add a HEALTHCHECK instruction to the Dockerfile.',
    reference: cisReference('4.6'),
    check(target) {
      const health = (target.info.Config as { Healthcheck?: { Test?: string[] } } | undefined)?.Healthcheck;
      const test = health?.Test;
      return !test || test.length === 0 || test[0] === 'NONE'
        ? [hit('', 'has no HEALTHCHECK', 'Config.Healthcheck', health ?? null)]
        : [];
    },
  },
  {
    id: 'image-update-alone',
    cis: '4.7',
    family: 'image',
    title: 'Package index update in a layer of its own',
    severity: 'info',
    remediation:
      'Update and install in one RUN (apt-get update && apt-get install …) so a cached index is never reused.',
    reference: cisReference('4.7'),
    check(target) {
      // Only a layer that updates and installs nothing: docker-bench flags every layer mentioning "update".
      return instructions(target)
        .filter(
          ({ text }) =>
            /\b(?:apt-get|apt|yum|dnf|apk|zypper)\s+(?:-\S+\s+)*(?:update|makecache)\b/.test(text) &&
            !/\b(?:install|add|upgrade)\b/.test(text),
        )
        .map(({ index, shown }) =>
          hit(
            `history[${index}]`,
            `updates the package index in a layer of its own: ${shown}`,
            `history[${index}].CreatedBy`,
            shown,
          ),
        );
    },
  },
  {
    id: 'image-add-instruction',
    cis: '4.9',
    family: 'image',
    title: 'ADD used where COPY would do',
    severity: 'info',
    remediation: 'Use COPY for local files; ADD fetches URLs and unpacks archives.',
    reference: cisReference('4.9'),
    check(target) {
      // The oldest layer is the base filesystem, always an ADD (docker-bench skips it too).
      return instructions(target)
        .slice(0, -1)
        .filter(({ text }) => /^\/bin\/sh -c #\(nop\)\s+ADD\b/.test(text) || /^ADD\b/.test(text))
        .map(({ index, shown }) =>
          hit(`history[${index}]`, `uses ADD: ${shown}`, `history[${index}].CreatedBy`, shown),
        );
    },
  },
];
