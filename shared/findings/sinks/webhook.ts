/** POSTs each opened or resolved finding as JSON to a webhook, retried until accepted. */
import { PermanentDeliveryError } from './delivery-queue';
import type { FindingEvent } from './finding-event';

const TIMEOUT_MS = 10_000;

export function webhookSender(url: string, token: string | undefined): (event: FindingEvent) => Promise<void> {
  return async (event) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'quayside' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.ok) return;
    const message = `webhook answered ${response.status} ${response.statusText}`;
    // A 4xx other than timeout or rate limit will not change by retrying the same body.
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
      throw new PermanentDeliveryError(message);
    throw new Error(message);
  };
}
