/** `syslog://`, `syslog+udp://`, `syslog+tcp://`, `syslog+tls://`. */
import type { AdapterFactory } from './adapter';
import { socketAdapter, udpPolicy } from './socket-adapter';
import { datagram, frameForStream, syslogSettings } from './syslog-format';

export const syslogAdapter: AdapterFactory = (context) => {
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
