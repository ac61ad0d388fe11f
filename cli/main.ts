#!/usr/bin/env node
/** `quayside <agent>|all|events [options]` */
import '../shared/docker/lazy-dockerode-parts'; // first: before any module loads dockerode
import { Command, CommanderError } from 'commander';
import { AGENTS } from '../agents';
import type { AgentDefinition } from '../shared/agent';
import { ConfigError, FatalError } from '../shared/config/errors';
import { addOptions, flagOf, valueForMessage, type OptionDecls } from '../shared/config/options';
import { agentRuntimeOptions, runtimeOptionsFor } from '../shared/runtime/common-options';
import { startRuntime, type AgentLaunch, type RuntimeSettings } from '../shared/runtime/runtime';
import { packageVersion } from '../shared/version';
import { addEventsCommand } from './events-command';
import { addExamples, helpLayout } from './help-text';

const RUNTIME_GROUP = 'Runtime options (every agent):';

/** Exit code for bad usage or configuration. */
export const EXIT_USAGE = 2;

export function buildProgram(agents: readonly AgentDefinition[] = AGENTS): Command {
  const program = new Command('quayside')
    .description('Event-driven sidecar agents for Docker hosts')
    .configureHelp(helpLayout)
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions() // options after a subcommand (`label-inspector check --docker-host …`) are the subcommand's
    .exitOverride();

  for (const agent of agents) {
    const command = program.command(agent.name).description(agent.summary).enablePositionalOptions();
    const operands = agent.operands;
    if (operands)
      command.argument(operands.variadic ? `[${operands.name}...]` : `[${operands.name}]`, operands.description);
    addOptions(command, runtimeOptionsFor(agent.listenPort), RUNTIME_GROUP);
    addOptions(command, agent.options, `${agent.name} options:`).action(async (...args: unknown[]) => {
      const values = (operands ? args[1] : args[0]) as Record<string, unknown>;
      if (operands) applyOperands(agent, command, args[0] as string | string[] | undefined, values);
      await runAgents(values, [{ definition: agent, options: values }]);
    });
    addExamples(command);
    agent.extendCommand?.(command);
    command.commands.forEach(addExamples); // the one-shot commands (`label-inspector check`)
  }

  const all = program
    .command('all')
    .description('Run every agent in one process, on one event stream and one HTTP server');
  addOptions(all, agentRuntimeOptions, RUNTIME_GROUP);
  // Each agent's options under its name; options two agents share (findings sinks) once, under their own group.
  mergeOptions([agentRuntimeOptions, ...agents.map((agent) => agent.options)]); // throws on a flag declared twice differently
  const listed = new Set(Object.keys(agentRuntimeOptions));
  for (const agent of agents) {
    const own = Object.fromEntries(Object.entries(agent.options).filter(([key]) => !listed.has(key)));
    Object.keys(own).forEach((key) => listed.add(key));
    addOptions(all, own, `${agent.name} options:`);
  }
  all.action(async (values: Record<string, unknown>) => {
    await runAgents(
      values,
      agents.map((definition) => ({ definition, options: values })),
    );
  });
  addExamples(all);

  addEventsCommand(program);
  return program;
}

async function runAgents(values: Record<string, unknown>, launches: AgentLaunch[]) {
  const runtime = await startRuntime(values as RuntimeSettings, launches);
  runtime.lifecycle.handleSignals();
  return runtime;
}

/** Puts the operands into the option they stand for, parsed by its declaration. */
function applyOperands(
  agent: AgentDefinition,
  command: Command,
  given: string | string[] | undefined,
  values: Record<string, unknown>,
): void {
  const operands = agent.operands;
  const texts = given === undefined ? [] : Array.isArray(given) ? given : [given];
  if (!operands || texts.length === 0) return;
  const decl = agent.options[operands.option];
  if (!decl) throw new Error(`${agent.name}: operands fill unknown option ${operands.option}`);
  const flag = flagOf(operands.option, decl);
  if (command.getOptionValueSource(operands.option) === 'cli') {
    throw new ConfigError(`give the ${operands.name} either as arguments or with ${flag}, not both`);
  }
  const parse = (text: string) => {
    try {
      return decl.parse(text);
    } catch (error) {
      throw new ConfigError(
        `${valueForMessage(operands.name, decl, text)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  values[operands.option] = decl.repeatable ? texts.map(parse) : parse(texts.join(','));
}

/** Applies the named agent's argument rewriting (`quayside registrator -internal …`). */
export function rewriteAgentArgs(argv: readonly string[], agents: readonly AgentDefinition[] = AGENTS): string[] {
  const agent = agents.find((candidate) => candidate.name === argv[2]);
  if (!agent?.rewriteArgs) return [...argv];
  return [...argv.slice(0, 3), ...agent.rewriteArgs(argv.slice(3))];
}

/** One option set from several; the same flag declared twice differently is a programming error. */
export function mergeOptions(sets: readonly OptionDecls[]): OptionDecls {
  const merged: OptionDecls = {};
  for (const set of sets) {
    for (const [key, decl] of Object.entries(set)) {
      const existing = merged[key];
      if (existing && existing !== decl) throw new Error(`option ${flagOf(key, decl)} is declared by two agents`);
      merged[key] = decl;
    }
  }
  return merged;
}

/** Runs the CLI; resolves to an exit code, or undefined while agents keep the process running. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const program = buildProgram();
  try {
    await program.parseAsync(rewriteAgentArgs(argv));
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof ConfigError) {
      process.stderr.write(`quayside: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof FatalError) {
      process.stderr.write(`quayside: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`quayside: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `quayside --help | head`: the reader left; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  void main(process.argv).then((code) => {
    if (code !== undefined) process.exitCode = code;
  });
}
