/** Label values: JSON that does not parse, and sizes that bloat every inspect and event. */
import { checkedKeys, finding, type LabelRule } from './rule';

const jsonValue: LabelRule = {
  id: 'label-json-value',
  title: 'Label value looks like JSON but does not parse',
  severity: 'medium',
  remediation: 'Serialize the value with a JSON encoder, or do not begin it with { or [.',
  check(target, settings) {
    return checkedKeys(target, settings).flatMap((key) => {
      const value = target.labels[key]!.trim();
      if (!/^[[{]/.test(value) || target.unresolved?.has(key)) return [];
      try {
        JSON.parse(value);
        return [];
      } catch (error) {
        return [
          finding(this, target, key, `label '${key}' looks like JSON but does not parse: ${(error as Error).message}`, {
            key,
            value: preview(value),
          }),
        ];
      }
    });
  },
};

const valueSize: LabelRule = {
  id: 'label-value-size',
  title: 'Label value is too large',
  severity: 'low',
  remediation:
    'Keep labels small: Docker copies them into every inspect and every event of the object. Store large data elsewhere and label a reference.',
  check(target, settings) {
    return Object.keys(target.labels).flatMap((key) => {
      const bytes = Buffer.byteLength(target.labels[key]!);
      return bytes > settings.maxValueBytes
        ? [
            finding(
              this,
              target,
              key,
              `label '${key}' has a ${bytes}-byte value; the limit is ${settings.maxValueBytes}`,
              { key, bytes, limit: settings.maxValueBytes },
            ),
          ]
        : [];
    });
  },
};

const totalSize: LabelRule = {
  id: 'label-total-size',
  title: 'Labels are too large altogether',
  severity: 'low',
  remediation:
    'Remove labels nobody reads; Docker copies all of them into every inspect and every event of the object.',
  check(target, settings) {
    const entries = Object.entries(target.labels);
    const bytes = entries.reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
    return bytes > settings.maxTotalBytes
      ? [
          finding(
            this,
            target,
            '',
            `${entries.length} labels take ${bytes} bytes; the limit is ${settings.maxTotalBytes}`,
            { labels: entries.length, bytes, limit: settings.maxTotalBytes },
          ),
        ]
      : [];
  },
};

const emptyValue: LabelRule = {
  id: 'label-empty-value',
  title: 'Label value is empty',
  severity: 'info',
  remediation: 'Give the label a value or remove it.',
  check(target, settings) {
    return checkedKeys(target, settings)
      .filter((key) => target.labels[key] === '')
      .map((key) => finding(this, target, key, `label '${key}' is empty`, { key }));
  },
};

function preview(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

export const VALUE_RULES: LabelRule[] = [jsonValue, valueSize, totalSize, emptyValue];
