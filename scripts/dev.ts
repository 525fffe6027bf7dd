import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * `npm run dev`: the API, the outbox relay and one worker consuming both queues, as three processes (the same split
 * as production), sharing this terminal. Ctrl-C stops them gracefully; if one exits, the others are stopped too.
 */
const dist = join(__dirname, '..', 'src');
const roles: Array<[string, string, NodeJS.ProcessEnv]> = [
  ['api', join(dist, 'main.js'), {}],
  ['relay', join(dist, 'relay.js'), { MIGRATIONS_RUN: 'false' }],
  ['worker', join(dist, 'worker.js'), { WORKER_QUEUES: process.env.WORKER_QUEUES ?? 'email,sms' }],
];

const children: ChildProcess[] = roles.map(([name, entry, env]) => {
  const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    console.log(`[dev] ${name} exited (${signal ?? code})`);
    stopAll();
    process.exitCode = code ?? 1;
  });
  return child;
});

function stopAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
