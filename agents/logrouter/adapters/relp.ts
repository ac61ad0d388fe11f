/**
 * `relp://host:port` and `relp+tls://host:port`: syslog messages (the same settings as syslog
 * routes) over RELP, each acknowledged by the server. A batch counts as delivered — and its
 * checkpoint moves — only when every message of it was acknowledged; after a lost session only
 * the messages not yet acknowledged are sent again, so a receiver restart loses nothing and
 * duplicates nothing that the server acknowledged.
 */
import { integerOption } from '../../../shared/config/options';
import type { LogMessage } from '../message';
import { onTransports, routeOptionValues } from '../route-options';
import { RelpClient } from '../transports/relp';
import { tlsOptions, tlsRouteOptions } from '../transports/tls-options';
import { hostAndPort, type AdapterFactory, type AdapterKind } from './adapter';
import { syslogMessage, syslogMessageOptions, syslogSettings } from './syslog-format';

/** rsyslog's documentation uses 2514 for RELP. */
const DEFAULT_PORT = 2514;

const relpWindowOption = {
  'relp.window': integerOption({
    help: 'Messages outstanding before waiting for acknowledgements',
    default: 128,
    min: 1,
    max: 4096,
  }),
};

const createRelpAdapter: AdapterFactory = ({ spec, env, transport }) => {
  const settings = syslogSettings(spec.options, env);
  const window = routeOptionValues(relpWindowOption, spec.options, env)['relp.window'];
  const { host, port } = hostAndPort(spec, DEFAULT_PORT);
  const client = new RelpClient({
    host,
    port,
    window,
    tls: transport === 'tls' ? tlsOptions(spec.options, env, host) : undefined,
  });
  client.open();
  /** Which messages of a batch the server acknowledged, kept across retries of that batch. */
  const acknowledged = new WeakMap<readonly LogMessage[], boolean[]>();
  return {
    get connected() {
      return client.connected;
    },
    get reconnects() {
      return client.reconnects;
    },
    async send(batch, accepted) {
      let acked = acknowledged.get(batch);
      if (!acked) {
        acked = new Array<boolean>(batch.length).fill(false);
        acknowledged.set(batch, acked);
      }
      const frames = batch.map((message) => {
        const { head, body } = syslogMessage(settings, message);
        return Buffer.concat([Buffer.from(head, 'utf8'), body]);
      });
      await client.send(frames, acked, accepted);
    },
    async close() {
      await client.close();
    },
  };
};

export const relpAdapter: AdapterKind = {
  schemes: ['relp'],
  transports: ['tcp', 'tls'],
  options: { ...syslogMessageOptions, ...relpWindowOption, ...onTransports(['tls'], tlsRouteOptions) },
  create: createRelpAdapter,
};
