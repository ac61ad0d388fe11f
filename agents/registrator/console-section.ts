/** The console's services section: GET /services (desired against registered, with reasons) as the page shows it. */
import type { ConsoleSection } from '../../shared/ops/console/section';
import type { Registrator } from './registrator';

export function servicesSection(registrator: Pick<Registrator, 'report'>): ConsoleSection {
  return { name: 'services', snapshot: () => registrator.report() };
}
