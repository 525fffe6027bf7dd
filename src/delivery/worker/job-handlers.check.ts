import { JOBS_BY_QUEUE, type JobName, type QueueName } from '../delivery.constants';

export interface ProcessorHandlers {
  queue: QueueName;
  jobNames: JobName[];
}

/**
 * Boot-time check: each configured queue has exactly one processor, each of its job names exactly one handler, and
 * nothing consumes a queue this worker was not configured for. Returns the problems (empty when fine).
 */
export function jobHandlerProblems(queues: readonly QueueName[], processors: readonly ProcessorHandlers[]): string[] {
  const problems: string[] = [];
  for (const queue of queues) {
    const mine = processors.filter((p) => p.queue === queue);
    if (mine.length !== 1) problems.push(`queue ${queue} has ${mine.length} processors (expected 1)`);
    for (const name of JOBS_BY_QUEUE[queue]) {
      const count = mine.filter((p) => p.jobNames.includes(name)).length;
      if (count !== 1) problems.push(`job ${name} on queue ${queue} has ${count} handlers (expected 1)`);
    }
    for (const name of new Set(mine.flatMap((p) => p.jobNames))) {
      if (!JOBS_BY_QUEUE[queue].includes(name)) problems.push(`queue ${queue} has a handler for unknown job ${name}`);
    }
  }
  for (const p of processors)
    if (!queues.includes(p.queue)) problems.push(`processor for queue ${p.queue}, which is not in WORKER_QUEUES`);
  return problems;
}
