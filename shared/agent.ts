/** What an agent is to the runtime: a name, its option declarations and a start function. */
import type { Command } from 'commander';
import type Dockerode from 'dockerode';
import type { Registry } from 'prom-client';
import type { OptionDecls, OptionValues } from './config/options';
import type { EventStream } from './docker/event-stream';
import type { OpsServer } from './ops/http-server';
import type { Logger } from './ops/logger';

export interface AgentContext {
  docker: Dockerode;
  events: EventStream;
  logger: Logger;
  metrics: Registry;
  http: OpsServer;
  /** Where the agent keeps what must survive a restart (checkpoints, ownership records). */
  stateDir: string;
}

export interface RunningAgent {
  /** Stop intake, flush, checkpoint. Called once at shutdown, before the event stream stops. */
  stop(): Promise<void>;
}

export interface AgentDefinition<D extends OptionDecls = OptionDecls> {
  name: string;
  summary: string;
  options: D;
  /** The default port of `--listen` when this agent runs alone (exporters have their own). */
  listenPort?: number;
  start(context: AgentContext, options: OptionValues<D>): Promise<RunningAgent>;
  /**
   * Positional arguments as the anchor takes them (`registrator consul://…`, `logrouter
   * syslog://… redis://…`). They fill an option, so the environment and `quayside all` can give
   * the same values; each is parsed by that option's declaration.
   */
  operands?: AgentOperands;
  /**
   * Rewrites the arguments after the agent's name before they are parsed, e.g. to accept
   * registrator's single-dash long flags (`-internal`, `-ip 10.0.0.5`).
   */
  rewriteArgs?(args: readonly string[]): string[];
  /** Adds subcommands, e.g. `label-inspector check`. */
  extendCommand?(command: Command): void;
}

interface AgentOperands {
  /** Shown in usage, e.g. `route-uri`. */
  name: string;
  description: string;
  /** The option the operands fill: a repeatable option gets one value per operand. */
  option: string;
  /** Several operands (`[route-uri...]`) or at most one (`[registry-uri]`). */
  variadic?: boolean;
}

/** Keeps the declarations' types while checking the shape. */
export function defineAgent<D extends OptionDecls>(
  definition: AgentDefinition<D> & { operands?: { option: keyof D } },
): AgentDefinition<D> {
  return definition;
}
