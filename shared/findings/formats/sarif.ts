/**
 * SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, Azure DevOps, VS Code viewers): one run, the
 * rules as `tool.driver.rules`, one result per finding.
 *
 * Dockerfile findings point at the file and, when the rule recorded it, the line. Images and
 * containers are no files, so their findings carry a logical location (name and kind) only; code
 * scanning services that insist on a file location will not show those.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findingKey, objectKey, type FindingDraft, type RuleInfo, type Severity } from '../finding';
import { describedRules, evidenceLine, orderedFindings, type FindingsReport } from './report';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
/** Hash of the finding key (rule, object, subject): lets code-scanning UIs match results across runs. */
export const SARIF_FINGERPRINT = 'quaysideFindingKey/v1';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVELS: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

function sarifLevel(severity: Severity): SarifLevel {
  return LEVELS[severity];
}

export function formatSarif(report: FindingsReport): string {
  const rules = describedRules(report);
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const { name, version, informationUri } = report.tool;
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: { name, version, ...(informationUri ? { informationUri } : {}), rules: rules.map(ruleDescriptor) },
        },
        results: orderedFindings(report).map((finding) => result(finding, ruleIndex.get(finding.ruleId) ?? 0)),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function ruleDescriptor(rule: RuleInfo) {
  const helpUri = rule.reference && /^https?:\/\//.test(rule.reference) ? rule.reference : undefined;
  return {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    help: { text: rule.remediation },
    ...(helpUri ? { helpUri } : {}),
    defaultConfiguration: { level: sarifLevel(rule.severity) },
    properties: { severity: rule.severity, ...(rule.reference ? { reference: rule.reference } : {}) },
  };
}

function result(finding: FindingDraft, ruleIndex: number) {
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: sarifLevel(finding.severity),
    message: { text: finding.message || finding.title },
    locations: [location(finding)],
    partialFingerprints: { [SARIF_FINGERPRINT]: createHash('sha256').update(findingKey(finding)).digest('hex') },
    properties: { severity: finding.severity, subject: finding.subject, object: objectKey(finding.object) },
  };
}

function location(finding: FindingDraft) {
  const { object } = finding;
  if (object.kind !== 'dockerfile') {
    return {
      logicalLocations: [{ name: object.name || object.id, fullyQualifiedName: objectKey(object), kind: object.kind }],
    };
  }
  const startLine = evidenceLine(finding);
  return {
    physicalLocation: {
      artifactLocation: { uri: fileUri(object.id) },
      ...(startLine === undefined ? {} : { region: { startLine } }),
    },
  };
}

/** A relative path stays relative (to the checkout, as code scanning wants); an absolute one becomes file://. */
export function fileUri(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return path.split('/').map(encodeURIComponent).join('/');
}

/** `label-key-format` → `LabelKeyFormat`, the identifier style SARIF viewers show as the rule name. */
function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}
