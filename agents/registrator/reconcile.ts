/**
 * The level-triggered core, as a pure function: what to write so the registry holds exactly the
 * desired services of this node. Only differences are written; services of this node whose
 * container is gone are removed; services of other nodes are never touched.
 */
import type { ActualService } from './backends/backend';
import type { DesiredService } from './service-model';

export interface ReconcilePlan {
  register: DesiredService[];
  deregister: ActualService[];
  maintenance: Array<{ service: DesiredService; enable: boolean }>;
  /** Desired services whose ID the registry holds for someone else: not overwritten. */
  blocked: Array<{ service: DesiredService; holder: string }>;
}

export interface PlanOptions {
  node: string;
  /** What the backend stores as the spec of a desired service, to compare with a listed one. */
  specOf(service: DesiredService): string;
  hasChecks: boolean;
  /** Also remove gliderlabs/registrator's own services of this node (no marker, its ID format). */
  legacyCleanup: boolean;
  /** Limit removals to these containers' services (an event's reconcile); all when absent. */
  containers?: ReadonlySet<string>;
  /** How the registry keys a service (the `actual` map's keys); the service ID when absent. */
  keyOf?(service: { id: string; name: string }): string;
}

/** A desired service's key in the registry. */
export function desiredKey(service: DesiredService, options: Pick<PlanOptions, 'keyOf'>): string {
  const { ID: id, Name: name } = service.registration;
  return options.keyOf ? options.keyOf({ id, name }) : id;
}

const LEGACY_ID = /^(.+?):([a-zA-Z0-9][a-zA-Z0-9_.-]+):[0-9]+(?::udp)?$/;

export function planReconcile(
  desired: Iterable<DesiredService>,
  actual: ReadonlyMap<string, ActualService>,
  options: PlanOptions,
): ReconcilePlan {
  const plan: ReconcilePlan = { register: [], deregister: [], maintenance: [], blocked: [] };
  const wanted = new Set<string>();
  for (const service of desired) {
    const key = desiredKey(service, options);
    wanted.add(key);
    const current = actual.get(key);
    // Another node's service is never overwritten: two writers of one ID (two hosts pointed at one
    // agent, the same SERVICE_ID) would flap at every reconcile. An unmarked one is taken over:
    // that is how gliderlabs/registrator's services, custom SERVICE_IDs included, move to us.
    if (current?.owner !== undefined && current.owner !== options.node) {
      plan.blocked.push({ service, holder: `node ${current.owner}` });
      continue;
    }
    const stale = !current || !matches(current, service, options);
    if (stale) plan.register.push(service);
    if (!options.hasChecks) continue;
    // A fresh registration may or may not keep an old maintenance check: state it again when it matters.
    const have = current?.maintenance ?? false;
    if (stale ? service.maintenance || have : have !== service.maintenance)
      plan.maintenance.push({ service, enable: service.maintenance });
  }
  for (const [key, current] of actual) {
    if (wanted.has(key) || !owned(current, options)) continue;
    if (options.containers && !(current.containerId && options.containers.has(current.containerId))) continue;
    plan.deregister.push(current);
  }
  return plan;
}

/** Whether a plan writes nothing (blocked services are not writes). */
export function isEmptyPlan(plan: ReconcilePlan): boolean {
  return plan.register.length === 0 && plan.deregister.length === 0 && plan.maintenance.length === 0;
}

function owned(service: ActualService, options: PlanOptions): boolean {
  if (service.owner !== undefined) return service.owner === options.node;
  return options.legacyCleanup && LEGACY_ID.exec(service.id)?.[1] === options.node;
}

function matches(current: ActualService, service: DesiredService, options: PlanOptions): boolean {
  const r = service.registration;
  return (
    current.owner === options.node &&
    current.spec === options.specOf(service) &&
    // In KV the name is part of the key (already matched), and a slash in it makes the listed name a guess.
    (!options.hasChecks || current.name === r.Name) &&
    current.address === r.Address &&
    current.port === r.Port &&
    (!options.hasChecks || sameList(current.tags, r.Tags)) &&
    // A check removed behind our back (or lost by the agent) is put back by registering again.
    (!options.hasChecks || current.checks === undefined || current.checks === r.Checks.length)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
