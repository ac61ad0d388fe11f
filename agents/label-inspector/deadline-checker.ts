/**
 * Checks one object at a time in a worker thread (check-worker.ts) under a deadline. A check that
 * overruns (or throws) becomes a finding about the object, `label-check-incomplete`; the worker is
 * terminated and a new one started for the next object. The agent never waits longer than the deadline.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FindingDraft, RuleInfo } from '../../shared/findings/finding';
import { finding } from './rules/rule';
import { labelOptionValues, type LabelOptionValues } from './options';
import type { LabelTarget } from './target';

export interface CheckWorkerData {
  values: LabelOptionValues;
}
export interface CheckRequest {
  id: number;
  target: LabelTarget;
}
export type CheckReply = { id: number; findings: FindingDraft[] } | { id: number; error: string };

const CHECK_INCOMPLETE: RuleInfo = {
  id: 'label-check-incomplete',
  title: 'The labels could not be checked in full',
  severity: 'high',
  remediation:
    'Labels that take this long to check are hostile or very large: look at who made the object. If the label schema is at fault, simplify it; --label-check-timeout sets the deadline.',
};

export class DeadlineChecker {
  private worker: Promise<Worker> | undefined;
  private last: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private closed = false;

  private readonly values: LabelOptionValues;

  constructor(
    values: LabelOptionValues,
    private readonly deadlineMs: number,
  ) {
    this.values = labelOptionValues(values);
  }

  /** Starts the worker, so that a settings problem shows at start. */
  async start(): Promise<void> {
    await this.ready();
  }

  /** The findings of one object; checks run in the order asked, one at a time. Never rejects. */
  check(target: LabelTarget): Promise<FindingDraft[]> {
    const result = this.last.then(() => this.checkNow(target));
    this.last = result;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await (await worker.catch(() => undefined))?.terminate();
  }

  private async checkNow(target: LabelTarget): Promise<FindingDraft[]> {
    if (this.closed) return [];
    let worker: Worker;
    try {
      worker = await this.ready();
    } catch (error) {
      return [incomplete(target, `the check worker could not start: ${(error as Error).message}`)];
    }
    const id = (this.nextId += 1);
    return new Promise<FindingDraft[]>((resolve) => {
      const done = (findings: FindingDraft[]) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(findings);
      };
      const restart = (why: string) => {
        if (this.closed) return done([]); // stopped by close(): no verdict about the object
        this.worker = undefined;
        void worker.terminate();
        done([incomplete(target, why)]);
      };
      const onMessage = (reply: CheckReply) => {
        if (reply.id !== id) return;
        done('error' in reply ? [incomplete(target, `the check failed: ${reply.error}`)] : reply.findings);
      };
      const onError = (error: Error) => restart(`the check failed: ${error.message}`);
      const onExit = () => restart('the check worker stopped');
      const timer = setTimeout(() => restart(`the check did not finish within ${this.deadlineMs} ms`), this.deadlineMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, target } satisfies CheckRequest);
    });
  }

  /** The running worker, started when there is none; resolves once it has loaded its settings. */
  private ready(): Promise<Worker> {
    if (this.worker) return this.worker;
    const started = new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(WORKER.file, {
        workerData: { values: this.values } satisfies CheckWorkerData,
        execArgv: WORKER.execArgv,
      });
      worker.unref(); // an idle checker never keeps the process alive
      worker.once('message', () => resolve(worker));
      worker.on('error', reject);
      worker.once('exit', (code) => {
        if (this.worker === started) this.worker = undefined; // a dead worker is never asked again
        reject(new Error(`exited with code ${code}`));
      });
    });
    this.worker = started;
    started.catch(() => undefined); // seen by whoever awaits it
    return started;
  }
}

function incomplete(target: LabelTarget, why: string): FindingDraft {
  return finding(
    CHECK_INCOMPLETE,
    target,
    '',
    `labels of ${target.object.kind} ${target.object.name} not checked in full: ${why}`,
  );
}

/** The compiled worker beside this file; run from source (tests, under tsx) it needs tsx too. */
const WORKER = existsSync(join(__dirname, 'check-worker.js'))
  ? { file: join(__dirname, 'check-worker.js'), execArgv: [] as string[] }
  : { file: join(__dirname, 'check-worker.ts'), execArgv: ['--require', 'tsx/cjs'] };
