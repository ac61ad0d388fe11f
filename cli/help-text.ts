/**
 * `--help` for people at a terminal: it fits the terminal's width (80 columns when not a
 * terminal), and each agent's help ends with the commands its users run first.
 */
import { Help, type Command } from 'commander';

/** Where a description goes when it cannot sit beside its option. */
const UNDER_INDENT = 6;

/**
 * Commander lines every description up after the longest option and stops wrapping when that
 * leaves under 40 columns, which printed lines of 300 columns; such descriptions go under their
 * option instead, wrapped to the width.
 */
export const helpLayout: Partial<Help> = {
  formatItem(term, termWidth, description, helper) {
    const width = helper.helpWidth ?? 80;
    const besideWidth = width - termWidth - 4; // two spaces of indent, two between the columns
    if (!description || besideWidth >= helper.minWidthToWrap)
      return Help.prototype.formatItem.call(helper, term, termWidth, description, helper);
    const indent = ' '.repeat(UNDER_INDENT);
    return `  ${term}\n${indent}${helper.boxWrap(description, width - UNDER_INDENT).replace(/\n/g, `\n${indent}`)}`;
  },
  // Long lists without spaces (the stats-exporter's label allow-list) are cut after a comma.
  boxWrap(text, width) {
    const wrapped = Help.prototype.boxWrap.call(this, text, width);
    return width < (this.minWidthToWrap ?? 40)
      ? wrapped
      : wrapped
          .split('\n')
          .flatMap((line) => cutLongLine(line, width))
          .join('\n');
  },
};

function cutLongLine(line: string, width: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const comma = rest.lastIndexOf(',', width - 1);
    const cut = comma > 0 ? comma + 1 : width;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return [...pieces, rest];
}

/** Examples after each agent's options: the anchors' own spellings where users bring them. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  registrator: [
    'quayside registrator consul://127.0.0.1:8500',
    'quayside registrator -internal -resync 30 consul://consul.service:8500',
    "# registrator's single-dash flags (-ip, -internal, -tags, -resync,",
    '# -deregister, -cleanup, -retry-attempts, -retry-interval, -useIpFromLabel)',
    '# work as well as --double-dash ones.',
  ],
  logrouter: [
    'quayside logrouter syslog+tcp://logs.example.com:514',
    "quayside logrouter 'redis://127.0.0.1:6379/logs?filter.labels=team:shop'",
    'ROUTE_URIS_FILE=/run/secrets/routes quayside logrouter',
  ],
  'stats-exporter': ['quayside stats-exporter', 'quayside stats-exporter --listen :8080    # where cAdvisor served'],
  'label-inspector': [
    'quayside label-inspector --label-schema /etc/quayside/labels.schema.json',
    'quayside label-inspector check --dockerfile Dockerfile --require oci',
  ],
  'label-inspector check': [
    'quayside label-inspector check --dockerfile Dockerfile --require oci',
    'quayside label-inspector check --image shop/web:1.4 --schema labels.json',
    'quayside label-inspector check --all --format sarif --output labels.sarif',
  ],
  'security-watcher': [
    'quayside security-watcher',
    'quayside security-watcher --security-policy policy.yaml',
    'quayside security-watcher audit --format junit --output cis.xml',
  ],
  'security-watcher audit': [
    'quayside security-watcher audit --fail-on high',
    'quayside security-watcher audit --container web --policy policy.yaml',
    'quayside security-watcher audit --format junit --output cis.xml',
  ],
  all: [
    'QUAYSIDE_REGISTRY_URI=consul://consul:8500 ROUTE_URIS=syslog://logs:514 \\',
    '  quayside all',
    'QUAYSIDE_API_TOKEN_FILE=/run/secrets/quayside quayside all',
  ],
};

/** Adds the examples of the command, looked up by its path under `quayside` (`label-inspector check`). */
export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  ${line}`).join('\n')}`);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
