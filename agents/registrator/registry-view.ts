/**
 * The registry as this agent knows it: this node's listing at the last look, kept in step with
 * every write since, the registrations it refused, and the IDs someone else holds. Plans what
 * to write from it; no calls of its own.
 */
import type { ActualService, RegistryBackend } from './backends/backend';
import { desiredKey, planReconcile, type PlanOptions, type ReconcilePlan } from './reconcile';
import type { DesiredService } from './service-model';

type Keys = Pick<RegistryBackend, 'keyOf' | 'specOf' | 'hasChecks'>;

export class RegistryView {
  /** Undefined until the first successful list. */
  private listing: { node: string; services: Map<string, ActualService> } | undefined;
  /** Registrations the registry refused (4xx), by service ID with the spec refused: not retried until it changes. */
  private readonly rejected = new Map<string, { spec: string; error: string }>();
  /** Desired services whose ID the registry holds for someone else, with who (logged once each). */
  private readonly blocked = new Map<string, string>();

  constructor(
    private readonly backend: Keys,
    /** -cleanup: gliderlabs/registrator's own services of this node are removed too. */
    private readonly legacyCleanup: boolean,
  ) {}

  get listed(): boolean {
    return this.listing !== undefined;
  }

  /** What a fresh list returned; it replaces everything seen or written before. */
  replace(node: string, services: Map<string, ActualService>): void {
    this.listing = { node, services };
  }

  /** The writes that make the registry hold `desired`; removals limited to `containers` when given. */
  plan(desired: DesiredService[], containers?: ReadonlySet<string>): ReconcilePlan {
    if (!this.listing) throw new Error('a reconcile was planned before the registry was listed');
    return planReconcile(desired, this.listing.services, { ...this.planOptions(this.listing.node), containers });
  }

  keyOf(service: DesiredService): string {
    return desiredKey(service, this.backend);
  }

  /** Whether the registry has the service (at the last look, or written since). */
  holds(service: DesiredService): boolean {
    return this.listing?.services.has(this.keyOf(service)) ?? false;
  }

  /** Remembers who holds a service's ID; false when that was known already (and logged). */
  block(serviceId: string, holder: string): boolean {
    if (this.blocked.get(serviceId) === holder) return false;
    this.blocked.set(serviceId, holder);
    return true;
  }

  /** Whether the registry refused this very spec of the service before. */
  refusedBefore(serviceId: string, spec: string): boolean {
    return this.rejected.get(serviceId)?.spec === spec;
  }

  refused(serviceId: string, spec: string, error: string): void {
    this.rejected.set(serviceId, { spec, error });
  }

  /** A register succeeded: `service` is what was sent, not the container's record now. */
  registered(service: DesiredService, spec: string): void {
    this.rejected.delete(service.registration.ID);
    this.blocked.delete(service.registration.ID);
    this.listing?.services.set(this.keyOf(service), actualOf(service, spec));
  }

  deregistered(key: string): void {
    this.listing?.services.delete(key);
  }

  maintenance(service: DesiredService, enabled: boolean): void {
    const current = this.listing?.services.get(this.keyOf(service));
    if (current) current.maintenance = enabled;
  }

  registeredCount(): number {
    if (!this.listing) return 0;
    const { node, services } = this.listing;
    let n = 0;
    for (const service of services.values()) if (service.owner === node) n += 1;
    return n;
  }

  /** A desired service against the registry, for GET /services. */
  stateOf(service: DesiredService): { registered: boolean; inSync: boolean; error?: string } {
    const key = this.keyOf(service);
    const listing = this.listing;
    const current = listing?.services.get(key);
    const plan =
      listing && current
        ? planReconcile([service], new Map([[key, current]]), this.planOptions(listing.node))
        : undefined;
    // Someone else's service under our ID is not ours registered.
    const registered = plan !== undefined && plan.blocked.length === 0;
    const id = service.registration.ID;
    const holder = this.blocked.get(id);
    const error = holder ? `service ID taken by ${holder}; not overwritten` : this.rejected.get(id)?.error;
    return { registered, inSync: registered && plan.register.length === 0, ...(error !== undefined ? { error } : {}) };
  }

  /** IDs of this node's services no container wants: the next reconcile removes them. */
  pendingRemoval(desired: DesiredService[]): string[] {
    if (!this.listing) return [];
    const { node, services } = this.listing;
    const desiredKeys = new Set(desired.map((s) => this.keyOf(s)));
    return [...services].filter(([key, s]) => s.owner === node && !desiredKeys.has(key)).map(([, s]) => s.id);
  }

  /** Drops what is remembered of services no container wants any more, so churn does not grow memory. */
  forgetGone(desired: DesiredService[]): void {
    const ids = new Set(desired.map((s) => s.registration.ID));
    for (const id of this.rejected.keys()) if (!ids.has(id)) this.rejected.delete(id);
    for (const id of this.blocked.keys()) if (!ids.has(id)) this.blocked.delete(id);
  }

  private planOptions(node: string): PlanOptions {
    return {
      node,
      specOf: (service) => this.backend.specOf(service),
      hasChecks: this.backend.hasChecks,
      legacyCleanup: this.legacyCleanup,
      keyOf: (s) => this.backend.keyOf(s),
    };
  }
}

function actualOf(service: DesiredService, spec: string): ActualService {
  const r = service.registration;
  return {
    id: r.ID,
    name: r.Name,
    address: r.Address,
    port: r.Port,
    tags: [...r.Tags],
    owner: r.Meta.quayside_node,
    containerId: service.containerId,
    spec,
    maintenance: false,
    checks: r.Checks.length,
  };
}
