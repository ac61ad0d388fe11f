/** `raw://` (UDP), `raw+udp://`, `raw+tcp://`, `raw+tls://` and logspout's `tcp://`, `udp://`, `tls://`: one template per message. */
import { stringOption } from '../../../shared/config/options';
import { optional } from '../route-options';
import { compileByteTemplate } from '../template';
import type { AdapterFactory, AdapterKind } from './adapter';
import { SOCKET_TRANSPORTS, socketAdapter, socketRouteOptions, udpPolicy } from './socket-adapter';

const createRawAdapter: AdapterFactory = (context) => {
  // `{{.Data}}` keeps the bytes exactly as the container wrote them.
  const encodeOne = compileByteTemplate(
    context.spec.options.format ?? context.env.RAW_FORMAT ?? '{{.Data}}\n',
    'raw format (RAW_FORMAT)',
  );
  const udp = udpPolicy(context.spec.options);
  return socketAdapter(
    context,
    {
      stream: (batch) => Buffer.concat(batch.map((message) => encodeOne(message))),
      datagram: (message) => {
        const bytes = encodeOne(message);
        return bytes.length <= udp.max ? bytes : udp.truncate ? bytes.subarray(0, udp.max) : undefined;
      },
    },
    { udp: 514, tcp: 514, tls: 6514 },
  );
};

export const rawAdapter: AdapterKind = {
  schemes: ['raw'],
  transports: SOCKET_TRANSPORTS,
  options: {
    format: optional(
      stringOption({
        help: "A Go template per line; default {{.Data}}\\n: the line's bytes as written",
        env: 'RAW_FORMAT',
        placeholder: '<template>',
      }),
    ),
    ...socketRouteOptions,
  },
  create: createRawAdapter,
};
