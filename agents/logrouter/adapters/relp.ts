/**
 * `relp://host:port` and `relp+tls://host:port`: syslog messages (the same settings as syslog
 * routes) over RELP, each acknowledged by the server. A batch counts as delivered — and its
 * checkpoint moves — only when every message of it was acknowledged; after a lost session only
 * the messages not yet acknowledged are sent again, so a receiver restart loses nothing and
 * duplicates nothing that the server acknowledged.
 */
import type { LogMessage } from '../message';
import { RouteError } from '../route';
import { RelpClient } from '../transports/relp';
import { tlsOptions } from '../transports/tls-options';
import { hostAndPort, type AdapterFactory } from './adapter';
import { syslogMessage, syslogSettings } from './syslog-format';

/** rsyslog's documentation uses 2514 for RELP. */
const DEFAULT_PORT = 2514;

export const relpAdapter: AdapterFactory = ({ spec, env }) => {
  const transport = spec.adapter.split('+')[1] ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'tls') throw new RouteError(`route scheme ${spec.adapter}: RELP runs over tcp or tls, not ${transport}`);
  const settings = syslogSettings(spec.options, env);
  const window = Number(spec.options['relp.window'] ?? 128);
  if (!Number.isInteger(window) || window < 1 || window > 4096) throw new RouteError(`relp.window must be an integer from 1 to 4096, not ${JSON.stringify(spec.options['relp.window'])}`);
  const { host, port } = hostAndPort(spec, DEFAULT_PORT);
  const client = new RelpClient({ host, port, window, tls: transport === 'tls' ? tlsOptions(spec.options, env, host) : undefined });
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
