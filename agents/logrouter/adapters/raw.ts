/** `raw://` (UDP), `raw+udp://`, `raw+tcp://`, `raw+tls://` and logspout's `tcp://`, `udp://`, `tls://`: one template per message. */
import { compileTemplate } from '../template';
import type { AdapterFactory } from './adapter';
import { socketAdapter, udpPolicy } from './socket-adapter';

export const rawAdapter: AdapterFactory = (context) => {
  const template = compileTemplate(context.spec.options.format ?? context.env.RAW_FORMAT ?? '{{.Data}}\n', 'raw format (RAW_FORMAT)');
  const udp = udpPolicy(context.spec.options);
  const encodeOne = (message: Parameters<typeof template>[0]) => {
    // The common template `{{.Data}}\n` keeps the bytes exactly as the container wrote them.
    return Buffer.from(template(message), 'utf8');
  };
  return socketAdapter(
    context,
    {
      stream: (batch) => Buffer.concat(batch.map(encodeOne)),
      datagram: (message) => {
        const bytes = encodeOne(message);
        return bytes.length <= udp.max ? bytes : udp.truncate ? bytes.subarray(0, udp.max) : undefined;
      },
    },
    { udp: 514, tcp: 514, tls: 6514 },
  );
};
