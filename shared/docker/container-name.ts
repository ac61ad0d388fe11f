/**
 * Docker reports container names with a leading `/` (`/web-1`) in inspect and list responses, and
 * without it in events and everywhere users type them. Agents compare and show the bare name.
 */
export function containerName(raw: string): string {
  return raw.startsWith('/') ? raw.slice(1) : raw;
}
