/**
 * The option tables of the documentation, generated from the declarations so they cannot drift:
 * `npm run docs` rewrites every `<!-- options:NAME -->…<!-- /options:NAME -->` block of README.md
 * and docs/*.md, and a test fails when a file differs from what this would write.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTS } from '../agents';
import { ADAPTER_KINDS, everyRouteOptions } from '../agents/logrouter/adapters';
import { checkOptions as labelCheckOptions } from '../agents/label-inspector/check-command';
import { auditOptions as securityAuditOptions } from '../agents/security-watcher/audit-command';
import { ruleTable as securityRuleTable } from '../agents/security-watcher/rules';
import type { RouteOptionDecl } from '../agents/logrouter/route-options';
import { flagOf, type OptionDecls } from '../shared/config/options';
import { secretFileVariable } from '../shared/config/secret-files';
import { agentRuntimeOptions } from '../shared/runtime/common-options';
import { eventsOptions } from './events-command';

export function optionsTable(decls: OptionDecls): string {
  const rows = Object.entries(decls).map(([key, decl]) => {
    const flag = `\`${flagOf(key, decl)}${decl.placeholder ? ` ${decl.placeholder}` : ''}\``;
    const env = !decl.env
      ? ''
      : decl.secret
        ? `\`${decl.env}\` or \`${secretFileVariable(decl.env)}\``
        : `\`${decl.env}\``;
    const fallback = decl.defaultText ?? (decl.default === undefined ? '' : String(decl.default));
    const repeat = decl.repeatable ? ' (repeatable)' : '';
    return `| ${[flag, env, fallback ? `\`${fallback}\`` : '', `${decl.help}${repeat}`].map(escapeCell).join(' | ')} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/**
 * The logrouter's route options, from the adapters' declarations: one row per key and meaning,
 * with the schemes (and transports) that read it.
 */
export function routeOptionsTable(): string {
  const rows = new Map<string, { key: string; decl: RouteOptionDecl<unknown>; routes: string[] }>();
  const add = (key: string, decl: RouteOptionDecl<unknown>, route: string) => {
    const id = `${key}\0${decl.help}`;
    const row = rows.get(id) ?? { key, decl, routes: [] };
    row.routes.push(route);
    rows.set(id, row);
  };
  for (const [key, decl] of Object.entries(everyRouteOptions)) add(key, decl, 'all');
  for (const kind of ADAPTER_KINDS) {
    for (const [key, decl] of Object.entries(kind.options)) {
      const schemes = kind.schemes.join(', ');
      add(key, decl, decl.transports ? `${schemes} over ${decl.transports.join(', ')}` : schemes);
    }
  }
  const lines = [...rows.values()].map(({ key, decl, routes }) => {
    const shownKey = `\`${decl.prefix ? `${key}<name>` : key}=${decl.placeholder ?? '<true|false>'}\``;
    const fallback = decl.defaultText ?? (decl.default === undefined ? '' : String(decl.default));
    return `| ${[shownKey, routes.join('; '), decl.env ? `\`${decl.env}\`` : '', fallback ? `\`${fallback}\`` : '', decl.help].map(escapeCell).join(' | ')} |`;
  });
  return ['| key | routes | environment | default | meaning |', '|---|---|---|---|---|', ...lines].join('\n');
}

/** A `|` would end the table cell, even inside backticks. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Every generated block of the documentation, by name. */
export function generatedBlocks(): Record<string, string> {
  const blocks: Record<string, string> = {
    runtime: optionsTable(agentRuntimeOptions),
    events: optionsTable(eventsOptions),
    'label-inspector-check': optionsTable(labelCheckOptions),
    'security-watcher-audit': optionsTable(securityAuditOptions),
    'security-watcher-rules': securityRuleTable(),
    'logrouter-route-options': routeOptionsTable(),
  };
  for (const agent of AGENTS) {
    if (Object.keys(agent.options).length > 0) blocks[agent.name] = optionsTable(agent.options);
  }
  return blocks;
}

export function renderReadme(readme: string, blocks: Record<string, string> = generatedBlocks()): string {
  return readme.replace(
    /(<!-- options:([\w-]+) -->)\n(?:[\s\S]*?\n)?(<!-- \/options:\2 -->)/g,
    (whole, open: string, name: string, close: string) =>
      name in blocks ? `${open}\n${blocks[name]}\n${close}` : whole,
  );
}

/** The documentation files whose blocks are generated: README.md and docs/*.md, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((name) => join('docs', name))];
}

if (require.main === module) {
  const root = process.argv[2] ?? '.';
  for (const file of documentationFiles(root)) {
    const path = join(root, file);
    writeFileSync(path, renderReadme(readFileSync(path, 'utf8')));
  }
}
