/**
 * Label-key profiles: Docker's guidelines have changed over time and linters read them
 * differently, so the key rules take one of these (see README, "label-inspector").
 */
export interface KeyProfile {
  name: string;
  description: string;
  /** What is wrong with the key's characters and ends, or [] when it is fine. */
  formatProblems(key: string): string[];
  /** The separator pairs that count as consecutive. */
  consecutive: RegExp;
}

const LOWER_ALNUM_DOT_DASH = /^[a-z0-9.-]*$/;

function problems(key: string, first: RegExp, firstText: string, last: RegExp, lastText: string): string[] {
  const found: string[] = [];
  const bad = [...new Set(key.replace(/[a-z0-9.-]/g, ''))];
  if (!LOWER_ALNUM_DOT_DASH.test(key))
    found.push(
      `contains ${bad.map((c) => JSON.stringify(c)).join(', ')}; only lower-case letters, digits, '.' and '-' are allowed`,
    );
  if (!first.test(key.charAt(0))) found.push(`must begin with ${firstText}`);
  if (!last.test(key.charAt(key.length - 1))) found.push(`must end with ${lastText}`);
  return found;
}

export const KEY_PROFILES: Record<string, KeyProfile> = {
  docker: {
    name: 'docker',
    description:
      "Docker's current guidelines: lower-case letters, digits, '.' and '-'; begin and end with a lower-case letter; no two separators in a row (also '.-' and '-.')",
    formatProblems: (key) => problems(key, /[a-z]/, 'a lower-case letter', /[a-z]/, 'a lower-case letter'),
    consecutive: /[.-]{2}/,
  },
  'docker-legacy': {
    name: 'docker-legacy',
    description:
      "Docker's guidelines up to 1.12 and label-schema: begin and end with a lower-case letter or digit; no '..' or '--'",
    formatProblems: (key) =>
      problems(key, /[a-z0-9]/, 'a lower-case letter or digit', /[a-z0-9]/, 'a lower-case letter or digit'),
    consecutive: /\.\.|--/,
  },
  hadolint: {
    name: 'hadolint',
    description:
      "hadolint DL3048: begin with a lower-case letter, end with a lower-case letter or digit; no '..' or '--'",
    formatProblems: (key) => problems(key, /[a-z]/, 'a lower-case letter', /[a-z0-9]/, 'a lower-case letter or digit'),
    consecutive: /\.\.|--/,
  },
};

export const KEY_PROFILE_NAMES = Object.keys(KEY_PROFILES) as Array<keyof typeof KEY_PROFILES>;
