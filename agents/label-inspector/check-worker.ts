/**
 * The label checks of the live agent, in a worker thread: a check that overruns its deadline is
 * ended by terminating this thread, while the agent's own thread keeps serving and following events.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkLabels, LABEL_RULE_IDS } from './checker';
import type { CheckReply, CheckRequest, CheckWorkerData } from './deadline-checker';
import { labelSettings } from './options';

const port = parentPort!;
const settings = labelSettings((workerData as CheckWorkerData).values, LABEL_RULE_IDS);
port.on('message', ({ id, target }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, findings: checkLabels(target, settings) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
port.postMessage('ready');
