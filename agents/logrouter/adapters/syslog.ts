/** `syslog://`, `syslog+udp://`, `syslog+tcp://`, `syslog+tls://`. */
import type { AdapterFactory, AdapterKind } from './adapter';
import { SOCKET_TRANSPORTS, socketAdapter, socketRouteOptions, udpPolicy } from './socket-adapter';
import { datagram, frameForStream, syslogFramingOption, syslogMessageOptions, syslogSettings } from './syslog-format';

const createSyslogAdapter: AdapterFactory = (context) => {
  const settings = syslogSettings(context.spec.options, context.env);
  const udp = udpPolicy(context.spec.options);
  return socketAdapter(
    context,
    {
      stream: (batch) => frameForStream(settings, batch),
      datagram: (message) => datagram(settings, message, udp.max, udp.truncate),
    },
    { udp: 514, tcp: 514, tls: 6514 },
  );
};

export const syslogAdapter: AdapterKind = {
  schemes: ['syslog'],
  transports: SOCKET_TRANSPORTS,
  options: { ...syslogMessageOptions, ...syslogFramingOption, ...socketRouteOptions },
  create: createSyslogAdapter,
};
