/**
 * TLS settings of a route: verify by default; CA, client certificate and key, server name from the
 * route's `tls.*` options or logspout's LOGSPOUT_TLS_* variables. Files are read at start, so a
 * missing file is a configuration error, not a failed connection later.
 *
 * As in logspout, LOGSPOUT_TLS_CA_CERTS adds to the system's trusted CAs unless
 * LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS=true; a route's own `tls.ca` is the only CA it trusts.
 * LOGSPOUT_TLS_HARDENING=true keeps to ECDHE with AES-GCM or ChaCha20 and its curves.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { booleanOption, optionalStringOption } from '../../../shared/config/options';
import { RouteError } from '../route';
import { routeOptionValues } from '../route-options';

/** The route options TLS reads (and the LOGSPOUT_TLS_* variables below, for every TLS route). */
export const tlsRouteOptions = {
  'tls.ca': optionalStringOption({
    help: "CA certificate files (PEM), comma-separated: the only CAs the route trusts; default LOGSPOUT_TLS_CA_CERTS, added to the system's unless LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS=true",
    placeholder: '<files>',
  }),
  'tls.cert': optionalStringOption({
    help: 'Client certificate file (PEM), with tls.key; default LOGSPOUT_TLS_CLIENT_CERT',
    placeholder: '<file>',
  }),
  'tls.key': optionalStringOption({
    help: 'Client key file (PEM), with tls.cert; default LOGSPOUT_TLS_CLIENT_KEY',
    placeholder: '<file>',
  }),
  'tls.servername': optionalStringOption({
    help: 'Server name to verify and send (SNI); default the host unless it is an IP address',
    placeholder: '<name>',
  }),
  'tls.verify': booleanOption({
    help: "Verify the server's certificate; LOGSPOUT_TLS_HARDENING=true also keeps to ECDHE with AES-GCM or ChaCha20",
    default: true,
  }),
};

export function tlsOptions(options: Record<string, string>, env: NodeJS.ProcessEnv, host: string): ConnectionOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new RouteError(`${what} ${file}: ${(error as Error).message}`);
    }
  };
  const caFiles = (options['tls.ca'] ?? env.LOGSPOUT_TLS_CA_CERTS ?? '').split(',').filter((f) => f.trim() !== '');
  const withSystemRoots = options['tls.ca'] === undefined && env.LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS !== 'true';
  const cert = options['tls.cert'] ?? env.LOGSPOUT_TLS_CLIENT_CERT;
  const key = options['tls.key'] ?? env.LOGSPOUT_TLS_CLIENT_KEY;
  if ((cert === undefined) !== (key === undefined))
    throw new RouteError('tls.cert and tls.key (LOGSPOUT_TLS_CLIENT_CERT/KEY) go together');
  const result: ConnectionOptions = {
    rejectUnauthorized: routeOptionValues(tlsRouteOptions, options, env)['tls.verify'],
    servername: options['tls.servername'] ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
    minVersion: 'TLSv1.2',
  };
  if (caFiles.length > 0)
    result.ca = [...(withSystemRoots ? rootCertificates : []), ...caFiles.map((f) => read(f.trim(), 'tls.ca'))];
  else if (env.LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS === 'true' && options['tls.ca'] === undefined) {
    throw new RouteError(
      'LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS=true leaves no trusted CA: give LOGSPOUT_TLS_CA_CERTS or tls.ca',
    );
  }
  if (env.LOGSPOUT_TLS_HARDENING === 'true') {
    result.ciphers =
      'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';
    result.ecdhCurve = 'X25519:P-521:P-384:P-256';
  }
  if (cert && key) {
    result.cert = read(cert, 'tls.cert');
    result.key = read(key, 'tls.key');
  }
  return result;
}
