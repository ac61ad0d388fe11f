/**
 * JUnit XML as Jenkins and GitLab read it: one <testsuite> per checked object, one failing
 * <testcase> per finding (classname = rule, name = subject), and one passing testcase for each clean
 * object so that "all checked, all fine" still shows up as tests. Attributes are those of the Jenkins
 * xunit schema (junit-10.xsd): `skipped` on <testsuite> only.
 *
 * Everything is escaped for XML 1.0, including characters XML cannot carry at all (most control
 * characters, lone surrogates), which are replaced by a visible `\uXXXX`.
 */
import type { FindingDraft } from '../finding';
import { describeObject, evidenceLine, findingsByObject, type FindingsReport, type ObjectFindings } from './report';

export function formatJunit(report: FindingsReport): string {
  const groups = findingsByObject(report);
  const tests = groups.reduce((sum, group) => sum + Math.max(group.findings.length, 1), 0);
  const failures = report.findings.length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: report.tool.name, tests, failures, errors: 0, time: 0 })}>`,
    ...groups.flatMap((group) => testsuite(group, report.tool.name)),
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

function testsuite({ object, findings }: ObjectFindings, toolName: string): string[] {
  const counts = { tests: Math.max(findings.length, 1), failures: findings.length, errors: 0, skipped: 0, time: 0 };
  return [
    `  <testsuite${attributes({ name: describeObject(object), ...counts })}>`,
    '    <properties>',
    ...Object.entries({ kind: object.kind, id: object.id, name: object.name, image: object.image })
      .filter(([, value]) => value !== '')
      .map(([name, value]) => `      <property${attributes({ name, value })}/>`),
    '    </properties>',
    ...(findings.length === 0
      ? [`    <testcase${attributes({ classname: toolName, name: 'no findings', time: 0 })}/>`]
      : findings.flatMap(failingTestcase)),
    '  </testsuite>',
  ];
}

function failingTestcase(finding: FindingDraft): string[] {
  return [
    `    <testcase${attributes({ classname: finding.ruleId, name: finding.subject || finding.ruleId, time: 0 })}>`,
    `      <failure${attributes({ message: finding.message || finding.title, type: finding.severity })}>${escapeText(details(finding))}</failure>`,
    '    </testcase>',
  ];
}

function details(finding: FindingDraft): string {
  const line = evidenceLine(finding);
  const facts: Array<[string, string]> = [
    ['Rule', `${finding.ruleId} (${finding.title})`],
    ['Severity', finding.severity],
    ['Object', `${describeObject(finding.object)} (${finding.object.id})`],
    ['Subject', finding.subject],
    ['Line', line === undefined ? '' : String(line)],
    ['Message', finding.message],
    ['Remediation', finding.remediation],
    ['Evidence', Object.keys(finding.evidence).length > 0 ? JSON.stringify(finding.evidence) : ''],
  ];
  return facts
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

/** Characters XML 1.0 cannot represent, not even as references: C0 controls but tab/LF/CR, U+FFFE/F, lone surrogates. */
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function replaceNonXml(text: string): string {
  return text.replace(NOT_XML, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeText(text: string): string {
  // A bare CR would be read back as LF; a reference keeps it.
  return replaceNonXml(text).replace(/[&<>\r]/g, (ch) => XML_ENTITIES[ch] ?? ch);
}

export function escapeAttribute(text: string): string {
  // Parsers turn raw tabs and line breaks in attributes into spaces; references keep them.
  return replaceNonXml(text).replace(/[&<>"'\t\n\r]/g, (ch) => XML_ENTITIES[ch] ?? ch);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
