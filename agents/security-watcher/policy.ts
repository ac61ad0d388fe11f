/**
 * The security policy: which rules run, at which severity, in audit or enforce mode with which
 * action, the exemptions and the image allow-list. Read from YAML; every problem names the file,
 * the line and what is wrong. Without a file, the built-in default applies: every rule on except
 * the inventory ones, in audit mode.
 */
import { readBoundedText } from '../../shared/config/files';
import type * as Yaml from 'yaml';
import type { Node, Pair } from 'yaml';
import { SEVERITIES, type Severity } from '../../shared/findings/finding';
import { ALL_RULES, rulesNamed } from './rules';
import type { RuleMeta } from './rules/rule';

/** Loaded when a policy is read, not by every agent's process (the yaml package is ~8 MB resident). */
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  return (yamlModule ??= require('yaml') as typeof Yaml);
}

const MODES = ['audit', 'enforce'] as const;
type Mode = (typeof MODES)[number];
/** Ordered from the mildest to the strongest: when several rules enforce, the strongest wins. */
export const ACTIONS = ['disconnect', 'pause', 'stop', 'kill'] as const;
export type Action = (typeof ACTIONS)[number];

export interface RulePolicy {
  enabled: boolean;
  severity: Severity;
  mode: Mode;
  action: Action;
}

export interface Exemption {
  /** Rule IDs it covers; all rules when empty. */
  rules: string[];
  image?: string;
  name?: string;
  /** `key` (present) or `key=value`. */
  label?: { key: string; value?: string };
  reason: string;
  /** Where it was declared, for logs: `policy.yaml:12`, or `default`. */
  origin: string;
}

export interface Policy {
  /** The file it came from, or `built-in default`. */
  source: string;
  rules: ReadonlyMap<string, RulePolicy>;
  exemptions: readonly Exemption[];
  /** Image reference globs; empty means every image is allowed. */
  allowedImages: readonly string[];
}

export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'PolicyError';
  }
}

const DEFAULT_MODE: Mode = 'audit';
const DEFAULT_ACTION: Action = 'pause';

export function defaultPolicy(): Policy {
  return {
    source: 'built-in default',
    rules: baseRules(DEFAULT_MODE, DEFAULT_ACTION),
    exemptions: [],
    allowedImages: [],
  };
}

function baseRules(mode: Mode, action: Action): Map<string, RulePolicy> {
  return new Map(
    ALL_RULES.map((rule) => [rule.id, { enabled: !rule.offByDefault, severity: rule.severity, mode, action }]),
  );
}

/** A policy is a few KiB: a larger file is refused rather than read whole. */
const MAX_POLICY_BYTES = 1 << 20;

export function loadPolicyFile(file: string): Policy {
  let text: string;
  try {
    text = readBoundedText(file, MAX_POLICY_BYTES);
  } catch (error) {
    throw new PolicyError(file, 0, `cannot read the policy: ${(error as Error).message}`);
  }
  return parsePolicy(text, file);
}

/** Parses a policy document. Throws PolicyError naming the first problem's line. */
export function parsePolicy(text: string, file: string): Policy {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax)
    throw new PolicyError(
      file,
      syntax.linePos?.[0].line ?? 1,
      syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
    );
  // A node knows where it starts; a pair (a key with a missing value) starts at its key.
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const located = node && yaml().isPair(node) ? (node.key as Node | null) : node;
    return lines.linePos(located?.range?.[0] ?? 0).line;
  };
  const fail = (node: Node | Pair | null | undefined, problem: string): never => {
    throw new PolicyError(file, lineOf(node), problem);
  };
  // An alias stands for its anchored node, so `host-pid: *contain` reads as the mapping it names.
  // One walk in document order: each anchor is remembered where it is defined, each alias is
  // replaced in place and not walked again (walking each use, or alias.resolve's walk of the whole
  // document per alias, takes exponential time on nested aliases, a "billion laughs" file).
  const anchors = new Map<string, Node>();
  const remember = (_: unknown, node: Node): void => {
    if (node.anchor) anchors.set(node.anchor, node);
  };
  yaml().visit(doc, {
    Map: remember,
    Seq: remember,
    Scalar: remember,
    Alias(key, alias, path) {
      const target = anchors.get(alias.source) ?? fail(alias, `unknown alias *${alias.source}`);
      const parent = path[path.length - 1];
      if (yaml().isPair(parent)) parent[key === 'key' ? 'key' : 'value'] = target;
      else if (yaml().isCollection(parent)) parent.items[key as number] = target;
      else if (yaml().isDocument(parent)) parent.contents = target;
      return yaml().visit.SKIP;
    },
  });
  const root = doc.contents;
  if (root === null || (yaml().isScalar(root) && (root.value === null || root.value === '')))
    fail(root, 'the policy is empty; expected a mapping with version, defaults, rules, exemptions, images');
  if (!yaml().isMap(root))
    return fail(root, 'the policy must be a mapping (version, defaults, rules, exemptions, images)');

  const sections = entries(root, fail, ['version', 'defaults', 'rules', 'exemptions', 'images'], 'top-level key');
  const version = sections.get('version');
  if (version) {
    if (!yaml().isScalar(version.value) || String(version.value.value) !== '1')
      fail(version.value as Node, `version must be 1, not ${JSON.stringify(scalarText(version.value))}`);
  }

  let mode = DEFAULT_MODE;
  let action = DEFAULT_ACTION;
  const defaults = sections.get('defaults');
  if (defaults) {
    if (!yaml().isMap(defaults.value)) fail(defaults.value as Node, 'defaults must be a mapping with mode and action');
    const fields = entries(defaults.value as Node, fail, ['mode', 'action'], 'key in defaults');
    if (fields.has('mode')) mode = choice(fields.get('mode')!, MODES, 'defaults.mode', fail);
    if (fields.has('action')) action = choice(fields.get('action')!, ACTIONS, 'defaults.action', fail);
  }

  const rules = baseRules(mode, action);
  const setAt = new Map<string, Pair>();
  const ruleSection = sections.get('rules');
  if (ruleSection && !isNull(ruleSection.value)) {
    if (!yaml().isMap(ruleSection.value))
      fail(ruleSection.value as Node, 'rules must be a mapping from rule ID (or CIS ID) to settings');
    for (const pair of (ruleSection.value as { items: Pair[] }).items) {
      const key = keyText(pair.key);
      const named = rulesNamed(key);
      if (named.length === 0)
        fail(
          pair.key as Node,
          `unknown rule '${key}'; rules are ${ALL_RULES.map((r) => r.id).join(', ')} (or their CIS IDs)`,
        );
      const settings = ruleSettings(pair, key, fail);
      for (const rule of named) {
        rules.set(rule.id, { ...rules.get(rule.id)!, ...settings });
        setAt.set(rule.id, pair);
      }
    }
  }

  const exemptions: Exemption[] = [];
  const exemptionSection = sections.get('exemptions');
  if (exemptionSection && !isNull(exemptionSection.value)) {
    if (!yaml().isSeq(exemptionSection.value)) fail(exemptionSection.value as Node, 'exemptions must be a list');
    for (const item of (exemptionSection.value as { items: Node[] }).items)
      exemptions.push(exemption(item, file, lineOf(item), fail));
  }

  let allowedImages: string[] = [];
  const images = sections.get('images');
  if (images && !isNull(images.value)) {
    if (!yaml().isMap(images.value)) fail(images.value as Node, 'images must be a mapping with allow');
    const fields = entries(images.value as Node, fail, ['allow'], 'key in images');
    if (fields.has('allow')) allowedImages = stringList(fields.get('allow')!, 'images.allow', fail);
  }
  // Every container host-network fires on is on the host's network, which it cannot leave. (Set
  // by the defaults only, the enforcement fails and says so in the log for such containers.)
  const hostNetwork = rules.get('host-network')!;
  if (
    setAt.has('host-network') &&
    hostNetwork.enabled &&
    hostNetwork.mode === 'enforce' &&
    hostNetwork.action === 'disconnect'
  ) {
    fail(
      setAt.get('host-network'),
      'host-network cannot be enforced by disconnect (a container on the host network has no network to leave); give it action pause, stop or kill',
    );
  }
  return { source: file, rules, exemptions, allowedImages };
}

type Fail = (node: Node | Pair | null | undefined, problem: string) => never;

/** The pairs of a mapping by key, refusing keys not in `allowed` (a typo must not pass silently). */
function entries(node: Node, fail: Fail, allowed: readonly string[], what: string): Map<string, Pair> {
  const out = new Map<string, Pair>();
  for (const pair of (node as unknown as { items: Pair[] }).items) {
    const key = keyText(pair.key);
    if (!allowed.includes(key)) fail(pair.key as Node, `unknown ${what} '${key}'; expected ${allowed.join(', ')}`);
    out.set(key, pair);
  }
  return out;
}

function ruleSettings(pair: Pair, key: string, fail: Fail): Partial<RulePolicy> {
  const value = pair.value as Node;
  // `privileged: off` / `privileged: false` is shorthand for enabled: false.
  if (yaml().isScalar(value) && typeof value.value === 'boolean') return { enabled: value.value };
  if (yaml().isScalar(value) && (value.value === 'off' || value.value === 'on'))
    return { enabled: value.value === 'on' };
  if (!yaml().isMap(value))
    return fail(value ?? pair, `rules.${key} must be a mapping (enabled, severity, mode, action) or true/false`);
  const fields = entries(value, fail, ['enabled', 'severity', 'mode', 'action'], `key in rules.${key}`);
  const settings: Partial<RulePolicy> = {};
  const enabled = fields.get('enabled');
  if (enabled) {
    if (!yaml().isScalar(enabled.value) || typeof enabled.value.value !== 'boolean')
      fail(enabled.value as Node, `rules.${key}.enabled must be true or false`);
    settings.enabled = (enabled.value as { value: boolean }).value;
  }
  if (fields.has('severity'))
    settings.severity = choice(fields.get('severity')!, SEVERITIES, `rules.${key}.severity`, fail);
  if (fields.has('mode')) settings.mode = choice(fields.get('mode')!, MODES, `rules.${key}.mode`, fail);
  if (fields.has('action')) settings.action = choice(fields.get('action')!, ACTIONS, `rules.${key}.action`, fail);
  return settings;
}

function exemption(item: Node, file: string, line: number, fail: Fail): Exemption {
  if (!yaml().isMap(item))
    return fail(item, 'each exemption must be a mapping with image, name or label, and a reason');
  const fields = entries(item, fail, ['rules', 'image', 'name', 'label', 'reason'], 'key in an exemption');
  const text = (key: string): string | undefined => {
    const pair = fields.get(key);
    if (!pair) return undefined;
    if (!yaml().isScalar(pair.value) || typeof pair.value.value !== 'string' || pair.value.value.trim() === '')
      fail((pair.value as Node) ?? pair, `exemption ${key} must be a non-empty string`);
    return (pair.value as { value: string }).value.trim();
  };
  const reason = text('reason');
  if (!reason) fail(item, 'the exemption has no reason; say why it is exempt');
  const image = text('image');
  const name = text('name');
  const labelText = text('label');
  if (!image && !name && !labelText) fail(item, 'the exemption selects nothing; give image, name or label');
  const rules: string[] = [];
  const rulesPair = fields.get('rules');
  if (rulesPair) {
    const keys = stringList(rulesPair, 'exemption rules', fail, true);
    // No rules would mean every rule: a list emptied by mistake must not waive everything.
    if (keys.length === 0)
      fail(rulesPair.value as Node, 'exemption rules is empty; leave it out to exempt from every rule');
    for (const key of keys) {
      const named = rulesNamed(key);
      if (named.length === 0) fail(rulesPair.value as Node, `exemption names unknown rule '${key}'`);
      rules.push(...named.map((r: RuleMeta) => r.id));
    }
  }
  let label: Exemption['label'];
  if (labelText) {
    const equals = labelText.indexOf('=');
    label = equals < 0 ? { key: labelText } : { key: labelText.slice(0, equals), value: labelText.slice(equals + 1) };
    if (label.key === '')
      fail(fields.get('label')!.value as Node, `exemption label '${labelText}' has no key; expected key or key=value`);
  }
  return { rules, image, name, label, reason: reason!, origin: `${file}:${line}` };
}

function choice<C extends string>(pair: Pair, choices: readonly C[], what: string, fail: Fail): C {
  const value = scalarText(pair.value);
  if (!yaml().isScalar(pair.value) || !choices.includes(value as C))
    fail((pair.value as Node) ?? pair, `${what} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
  return value as C;
}

/** A list of strings (or one string). With `ruleIds`, numbers are CIS IDs, read as written. */
function stringList(pair: Pair, what: string, fail: Fail, ruleIds = false): string[] {
  const value = pair.value as Node;
  const text = (node: Node): string | undefined => {
    if (!yaml().isScalar(node)) return undefined;
    if (ruleIds && typeof node.value === 'number') return keyText(node);
    return typeof node.value === 'string' && node.value !== '' ? node.value : undefined;
  };
  if (yaml().isScalar(value) && text(value) !== undefined) return [text(value)!];
  if (!yaml().isSeq(value)) return fail(value ?? pair, `${what} must be a list of strings`);
  return (value as unknown as { items: Node[] }).items.map(
    (item) => text(item) ?? fail(item, `${what} must be a list of non-empty strings`),
  );
}

/**
 * A mapping key as the author wrote it. YAML reads an unquoted `5.20` as the number 5.2, which is
 * another CIS check (AppArmor): the source text keeps the ID the author meant.
 */
function keyText(node: unknown): string {
  if (yaml().isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string') return node.source;
  return String(scalarText(node));
}

function scalarText(node: unknown): unknown {
  return yaml().isScalar(node) ? node.value : node === null || node === undefined ? null : '(a collection)';
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (yaml().isScalar(node) && node.value === null);
}
