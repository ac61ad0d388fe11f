/** `stdout://`: one JSON document per line (`?format=raw` with a template instead). */
import { jsonEvent } from '../json-event';
import { compileTemplate } from '../template';
import type { AdapterFactory } from './adapter';

export const stdoutAdapter: AdapterFactory = (context) => {
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
