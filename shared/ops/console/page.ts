/** The page shell at `/`: public, with no data in it; the data comes over /console/stream once admitted. */
import type { ServerResponse } from 'node:http';
import type { ConsoleAssets } from './assets';

/** Only our own files, no inline script, no framing: an injected string can run nothing. */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function sendPage(response: ServerResponse, assets: ConsoleAssets): void {
  // The digests in the URLs let the browser keep the files until a new build changes them.
  const js = assets.get('app.js')!;
  const css = assets.get('app.css')!;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>quayside host console</title>
<link rel="stylesheet" href="/console/assets/app.css?v=${css.etag.slice(1, -1)}">
<script defer src="/console/assets/app.js?v=${js.etag.slice(1, -1)}"></script>
</head>
<body>
<noscript>The host console needs JavaScript. The same data is at /services, /findings and /routes.</noscript>
<div id="app"></div>
</body>
</html>
`;
  response.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-cache',
    ...SECURITY_HEADERS,
  });
  response.end(html);
}

export function sendAsset(
  response: ServerResponse,
  assets: ConsoleAssets,
  name: string,
  ifNoneMatch: string | undefined,
): void {
  const asset = assets.get(name);
  if (!asset) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`no console file ${name}\n`);
    return;
  }
  const headers = {
    'Content-Type': asset.type,
    ETag: asset.etag,
    'Cache-Control': 'public, max-age=31536000, immutable',
    ...SECURITY_HEADERS,
  };
  if (ifNoneMatch === asset.etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
  response.end(asset.body);
}
