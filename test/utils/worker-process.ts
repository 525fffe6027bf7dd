import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface RoleChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running: () => boolean;
}
export type WorkerChild = RoleChild;

/**
 * Starts one of the service's entry points (`src/worker.ts`, `src/relay.ts`, `src/main.ts`) as a real child process,
 * compiled on the fly by @swc-node/register (no build step), with the given environment.
 */
export function spawnRole(entry: string, env: Record<string, string>, nodeArgs: string[] = []): RoleChild {
  return spawnNode(['-r', '@swc-node/register', ...nodeArgs, join(ROOT, 'src', entry)], env);
}

/** Starts a compiled entry point (`<dist>/src/worker.js`), as the benchmarks run the service. */
export function spawnBuilt(
  dist: string,
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): RoleChild {
  return spawnNode([...nodeArgs, join(dist, 'src', entry)], env);
}

function spawnNode(args: string[], env: Record<string, string>): RoleChild {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited, running: () => child.exitCode === null && child.signalCode === null };
}

export const spawnWorker = (env: Record<string, string>, nodeArgs: string[] = []): RoleChild =>
  spawnRole('worker.ts', env, nodeArgs);
