/**
 * JSON Schema mode: a user's schema (draft-07 or 2020-12) applied to the labels object, every
 * error reported with its path. Digit strings may satisfy `"type": "integer"` (coerced, as
 * garethr's docker-label-inspector did), since label values are always strings.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import { ConfigError } from '../../../shared/config/errors';
import { readBoundedText } from '../../../shared/config/files';
import { linearRegExp } from '../../../shared/linear-regexp';
import { finding, type LabelRule, type LabelSchema } from './rule';
import { inPlaceRefCycle } from './schema-cycles';

const DRAFT_2020 = /json-schema\.org\/draft\/2020-12\/schema/;
/** Largest schema file read: a schema is a few KiB, and the whole file is held and compiled. */
const MAX_SCHEMA_BYTES = 1 << 20;

/** ajv's `pattern` and `patternProperties` under RE2: see shared/linear-regexp.ts for why. */
function linearRegExpEngine(): RegExpEngine {
  const engine = (pattern: string, flags: string) => {
    const re = linearRegExp(pattern);
    // ajv keys its compiled patterns by toString(): each must be told apart.
    return { test: (text: string) => re.test(text), toString: () => `/${pattern}/${flags}` };
  };
  return Object.assign(engine, { code: 're2js' });
}

/** Label sets the schema is tried on at load: one that cannot evaluate is found before any check. */
const TRIAL_LABELS: ReadonlyArray<Record<string, string>> = [
  {},
  { 'org.opencontainers.image.title': 'trial', 'com.example.n': '1' },
];

/** Reads, compiles and tries the schema; a problem is a ConfigError naming the file. */
export function loadLabelSchema(file: string): LabelSchema {
  const text = readSchemaFile(file);
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`label schema ${file}: not JSON: ${(error as Error).message}`);
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new ConfigError(`label schema ${file}: a schema must be a JSON object`);
  const $schema = (schema as { $schema?: unknown }).$schema;
  const warnings = new Set<string>();
  const logger = {
    log: () => undefined,
    warn: (...parts: unknown[]) => void warnings.add(parts.join(' ')),
    error: (...parts: unknown[]) => void warnings.add(parts.join(' ')),
  };
  const options = {
    allErrors: true,
    coerceTypes: true,
    strict: false,
    logger,
    code: { regExp: linearRegExpEngine() },
  } as const;
  // Loaded only when a schema is given, so that agents without one do not carry ajv.
  const { default: Ajv } = require('ajv') as typeof import('ajv');
  const { default: Ajv2020 } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
  const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
  const ajv = typeof $schema === 'string' && DRAFT_2020.test($schema) ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object);
  } catch (error) {
    throw new ConfigError(`label schema ${file}: invalid schema: ${(error as Error).message}`);
  }
  for (const labels of TRIAL_LABELS) {
    try {
      validate({ ...labels });
    } catch (error) {
      // e.g. {"$ref": "#"}: every check would overflow the stack.
      throw new ConfigError(`label schema ${file}: cannot be evaluated: ${(error as Error).message}`);
    }
  }
  const cycle = inPlaceRefCycle(schema);
  if (cycle !== undefined) {
    throw new ConfigError(
      `label schema ${file}: cannot be evaluated: ${cycle} leads back to a schema applied to the same labels, so evaluating it never ends (a $ref cycle must pass through properties, items or the like)`,
    );
  }
  return { file, validate, warnings: [...warnings].map((w) => `label schema ${file}: ${w}`) };
}

function readSchemaFile(file: string): string {
  try {
    return readBoundedText(file, MAX_SCHEMA_BYTES);
  } catch (error) {
    throw new ConfigError(`label schema ${file}: cannot read it: ${(error as Error).message}`);
  }
}

const schemaViolation: LabelRule = {
  id: 'label-schema',
  title: 'Labels do not match the label schema',
  severity: 'high',
  remediation:
    'Change the labels (or the schema) so that they match; the message names the label and the schema keyword.',
  check(target, settings) {
    const schema = settings.schema;
    if (!schema) return [];
    const labels = { ...target.labels }; // coercion rewrites the object it validates
    if (schema.validate(labels)) return [];
    return (schema.validate.errors ?? []).map((error) => {
      const key = errorKey(error);
      const where = key ? `label '${key}'` : 'labels';
      // The schema path tells errors apart even when one label breaks the same keyword twice (allOf).
      return finding(
        this,
        target,
        `${key}${error.schemaPath}`,
        `${where} ${error.message ?? 'invalid'} (schema ${schema.file}, ${error.schemaPath})`,
        {
          key,
          keyword: error.keyword,
          schemaPath: error.schemaPath,
          params: error.params,
        },
      );
    });
  },
};

/** The label an error is about: the property of its path, or the one `required` misses. */
function errorKey(error: ErrorObject): string {
  if (error.keyword === 'required') return String((error.params as { missingProperty?: string }).missingProperty ?? '');
  if (error.keyword === 'additionalProperties')
    return String((error.params as { additionalProperty?: string }).additionalProperty ?? '');
  const first = error.instancePath.split('/')[1] ?? '';
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

export const SCHEMA_RULES: LabelRule[] = [schemaViolation];
