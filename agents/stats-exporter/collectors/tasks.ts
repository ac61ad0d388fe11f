/**
 * Tasks of a cgroup by scheduler state, the numbers behind cAdvisor's container_tasks_state and
 * its 10-second load averages. cAdvisor asks the kernel over netlink (taskstats, which needs
 * CAP_NET_ADMIN and --enable_load_reader, else it exports zeros); the same counts come from the
 * state field of /proc/<tid>/stat of each task listed in the cgroup. Not recursive, as netlink's.
 */
import { isMissingFile } from './errors';
import { readText } from './files';
import type { LoadAverages, TaskStates } from './stats';

/** Counts the tasks (threads) a cgroup lists (v1 `tasks`, v2 `cgroup.threads`) by their state. */
export function readTaskStates(tasksFile: string, procRoot: string): TaskStates {
  const states: TaskStates = { running: 0, sleeping: 0, stopped: 0, uninterruptible: 0 };
  for (const tid of readText(tasksFile).split('\n')) {
    if (tid === '') continue;
    const state = taskState(`${procRoot}/${tid}/stat`);
    // The kernel's cgroupstats count R, S, D and T/t; zombies and idle kernel threads are not counted.
    if (state === 'R') states.running += 1;
    else if (state === 'S') states.sleeping += 1;
    else if (state === 'D') states.uninterruptible += 1;
    else if (state === 'T' || state === 't') states.stopped += 1;
  }
  return states;
}

function taskState(statFile: string): string | undefined {
  let text: string;
  try {
    text = readText(statFile);
  } catch (error) {
    if (isMissingFile(error)) return undefined; // the task ended since the list was read
    throw error;
  }
  // `pid (comm) S …`: comm may hold spaces and parentheses, so the state follows the last `)`.
  return text[text.lastIndexOf(')') + 2];
}

/** cAdvisor's window: the averages decay with e^(-elapsed/10 s). */
const LOAD_WINDOW_SECONDS = 10;

interface LoadState extends LoadAverages {
  at: number;
}

/**
 * Exponentially decayed running and uninterruptible task counts per container, updated at each
 * scrape (cAdvisor updates them at each housekeeping, every second by default).
 */
export class LoadAverager {
  private readonly states = new Map<string, LoadState>();

  update(id: string, tasks: TaskStates, nowSeconds: number): LoadAverages {
    const previous = this.states.get(id);
    let next: LoadState;
    if (!previous) {
      next = { running: tasks.running, uninterruptible: tasks.uninterruptible, at: nowSeconds };
    } else {
      const decay = Math.exp(-Math.max(0, nowSeconds - previous.at) / LOAD_WINDOW_SECONDS);
      next = {
        running: previous.running * decay + tasks.running * (1 - decay),
        uninterruptible: previous.uninterruptible * decay + tasks.uninterruptible * (1 - decay),
        at: nowSeconds,
      };
    }
    this.states.set(id, next);
    return { running: next.running, uninterruptible: next.uninterruptible };
  }

  /** Forgets containers not in `ids` (stopped or removed). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
  }
}
