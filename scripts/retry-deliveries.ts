import 'reflect-metadata';
import { loadConfig } from '../src/config/app-config';
import { QueueName } from '../src/delivery/delivery.constants';
import { FailedDeliveries, type FailedDelivery } from '../src/delivery/failed-deliveries';

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
  const bad = (problem: string) => new Error(`${problem}\n${USAGE}`);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--queue', '--retry', '--limit'].includes(flag)) throw bad(`unknown flag ${flag}`);
    if (value === undefined || value.startsWith('--')) throw bad(`${flag} needs a value`);
    if (flag === '--queue') {
      if (value !== 'email' && value !== 'sms') throw bad(`--queue must be email or sms, got ${value}`);
      options.queues = [value as QueueName];
    } else if (flag === '--retry') options.retry = value;
    else if (/^\d+$/.test(value)) options.limit = Number(value);
    else throw bad(`--limit must be a whole number, got ${value}`);
  }
  return options;
}

const describe = (d: FailedDelivery) =>
  `${d.queue}\t${d.verificationId}\tattempts=${d.attemptsMade}\tfailed=${d.failedAt.toISOString()}\t${d.reason}`;

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const failed = await new FailedDeliveries(loadConfig()).open();
  try {
    const only = options.retry && options.retry !== 'all' ? options.retry : undefined;
    for (const queue of options.queues) {
      const deliveries = await failed.list(queue, only, options.limit);
      if (deliveries.length === 0) console.log(`${queue}\tno failed jobs`);
      for (const delivery of deliveries) {
        if (options.retry) await failed.retry(delivery);
        console.log(`${options.retry ? 'retried\t' : ''}${describe(delivery)}`);
      }
    }
  } finally {
    await failed.close();
  }
}

main().catch((err: unknown) => {
  console.error(`deliveries:retry: ${(err as Error).message}`);
  process.exit(1);
});
