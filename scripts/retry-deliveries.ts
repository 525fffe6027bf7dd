import 'reflect-metadata';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { jobIdFor, QueueName, type DeliveryJobData } from '../src/delivery/delivery.constants';

const USAGE = `npm run deliveries:retry -- [--queue email|sms] [--retry all|<verification id>] [--limit N]
  Without --retry: lists the failed (dead-letter) delivery jobs with their last error.
  --retry all: moves every failed job of the queue(s) back to waiting; --retry <id>: only that record's job.`;

interface Options {
  queues: QueueName[];
  retry?: string;
  limit: number;
}

function parse(argv: string[]): Options {
  const options: Options = { queues: [QueueName.Email, QueueName.Sms], limit: 100 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(USAGE);
    if (flag === '--queue' && (value === 'email' || value === 'sms')) options.queues = [value as QueueName];
    else if (flag === '--retry') options.retry = value;
    else if (flag === '--limit' && /^\d+$/.test(value)) options.limit = Number(value);
    else throw new Error(USAGE);
  }
  return options;
}

/**
 * The dead-letter view of delivery: failed jobs stay in BullMQ's failed set (removeOnFail: false). Retrying moves a job
 * back to waiting with fresh attempts and sets its record from `failed` back to `queued`; the worker still skips a
 * record that has expired, been superseded or consumed meanwhile.
 */
async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const config = loadConfig();
  const db = new Client({ connectionString: config.databaseUrl });
  await db.connect();
  try {
    for (const name of options.queues) {
      const queue = new Queue<DeliveryJobData>(name, { connection: { url: config.redis.url }, prefix: config.redis.prefix });
      try {
        const jobs =
          options.retry && options.retry !== 'all'
            ? [await queue.getJob(jobIdFor(options.retry))].filter((j) => j !== undefined)
            : await queue.getFailed(0, options.limit - 1);
        for (const job of jobs) {
          if ((await job.getState()) !== 'failed') continue;
          const line = `${name}\t${job.data.verificationId}\tattempts=${job.attemptsMade}\tfailed=${new Date(job.finishedOn ?? 0).toISOString()}\t${job.failedReason}`;
          if (!options.retry) {
            console.log(line);
            continue;
          }
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          await db.query("UPDATE verifications SET delivery_status = 'queued' WHERE id = $1 AND delivery_status = 'failed'", [job.data.verificationId]);
          console.log(`retried\t${line}`);
        }
        if (jobs.length === 0) console.log(`${name}\tno failed jobs${options.retry && options.retry !== 'all' ? ` for ${options.retry}` : ''}`);
      } finally {
        await queue.close();
      }
    }
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  console.error(`deliveries:retry: ${(err as Error).message}`);
  process.exit(1);
});
