/** `stdout://`: one JSON document per line (`?format=raw` with a template instead). */
import { jsonEvent } from '../json-event';
import { compileTemplate } from '../template';
import { stringOption } from '../../../shared/config/options';
import { jsonRouteOption } from '../route-options';
import type { AdapterFactory, AdapterKind } from './adapter';

const createStdoutAdapter: AdapterFactory = (context) => {
  const format = context.spec.options.format;
  const template = format && format !== 'json' ? compileTemplate(format, 'stdout format') : undefined;
  const out = context.stdout;
  return {
    connected: true,
    reconnects: 0,
    async send(batch) {
      const text = batch.map((m) => (template ? template(m) : `${JSON.stringify(jsonEvent(m))}\n`)).join('');
      await new Promise<void>((resolve, reject) => out.write(text, (error) => (error ? reject(error) : resolve())));
    },
    async close() {},
  };
};

export const stdoutAdapter: AdapterKind = {
  schemes: ['stdout'],
  options: {
    format: stringOption({
      help: 'json (one JSON document per line) or a Go template per line',
      default: 'json',
      placeholder: '<json|template>',
    }),
    ...jsonRouteOption,
  },
  create: createStdoutAdapter,
};
