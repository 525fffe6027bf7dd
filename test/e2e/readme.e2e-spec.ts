import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../utils/redis-process';
import { isolatedRedisPrefix } from '../utils/test-app';

const ROOT = join(__dirname, '..', '..');
/** What `npm run dev`, `npm run build` and `client:new` read: a copy, so the migration client:new writes stays there. */
const PROJECT_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'src', 'scripts'];

/**
 * The README's shell blocks, each as its commands: a command goes on over a trailing backslash or an open single
 * quote (a JSON body); comment lines and trailing comments outside quotes are dropped.
 */
function readmeShellBlocks(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map(([, body]) => {
    const commands: string[] = [];
    let pending = '';
    for (const line of body.split('\n')) {
      const inQuote = (pending.match(/'/g) ?? []).length % 2 === 1;
      if (inQuote) {
        pending += `\n${line}`;
      } else {
        const code = line.replace(/(^|\s+)#.*$/, '');
        pending += code.endsWith('\\') ? `${code.slice(0, -1)} ` : code;
        if (code.endsWith('\\')) continue;
      }
      if ((pending.match(/'/g) ?? []).length % 2 === 1) continue;
      if (pending.trim()) commands.push(pending.trim());
      pending = '';
    }
    return commands;
  });
}

/**
 * The README's quick start, command by command as written, against `npm run dev` in a copy of the project: the
 * client it creates, the start, the code from the dev terminal's log email, and the exchange. Only the port (the
 * README's :3000) and the placeholders (<client_id>, <secret>, <code>) are filled in.
 */
describe('README quick start (npm run dev)', () => {
  jest.setTimeout(240_000);
  let dir: string;
  let dev: ChildProcess | undefined;
  let devOutput = '';
  let port: number;
  let env: NodeJS.ProcessEnv;
  const values: Record<string, string> = {};

  const fill = (command: string) =>
    command
      .replaceAll('localhost:3000', `localhost:${port}`)
      .replace(/<(client_id|secret|code)>/g, (_placeholder, name: string) => values[name]);
  /** Runs one README command in the project copy (placeholders filled in); resolves with its output. */
  const run = (command: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', fill(command)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}:\n${out}`)),
      );
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pwl-readme-'));
    for (const file of PROJECT_FILES) cpSync(join(ROOT, file), join(dir, file), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    port = await freePort();
    // A developer's shell: none of the test run's settings, only where this file's database and Redis keys are, and
    // free ports instead of the defaults (other test files run at the same time).
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: process.env.DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_PREFIX: isolatedRedisPrefix(),
      PORT: String(port),
      RELAY_HEALTH_PORT: String(await freePort()),
      WORKER_HEALTH_PORT: String(await freePort()),
    };
  });

  afterAll(async () => {
    if (dev?.pid && dev.exitCode === null) {
      const exited = new Promise((resolve) => dev?.once('exit', resolve));
      process.kill(-dev.pid, 'SIGINT'); // Ctrl-C in the terminal: npm and the three role processes all get it
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('should run the quick start as written: a client, a start, the code from the log, tokens', async () => {
    const [install, quickStart, spaClient] = readmeShellBlocks().filter((block) =>
      block.some((c) => /npm run (dev|client:new)/.test(c)),
    );
    // `npm ci && npm run dev`: the copy shares this checkout's node_modules, so only `npm run dev` runs.
    expect(install[0]).toBe('npm ci && npm run dev');
    dev = spawn('bash', ['-c', 'npm run dev'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    dev.stdout?.on('data', (chunk: Buffer) => (devOutput += chunk.toString()));
    dev.stderr?.on('data', (chunk: Buffer) => (devOutput += chunk.toString()));
    await waitFor(
      async () => (await fetch(`http://localhost:${port}/health`).catch(() => undefined))?.ok === true,
      180_000,
      500,
    );

    const [newClient, buildAndMigrate, start, exchange] = quickStart;
    expect(newClient).toMatch(/^npm run client:new -- /);
    const created = await run(newClient);
    values.client_id = /client_id:\s+(\S+)/.exec(created)![1];
    values.secret = /client_secret:\s+(\S+)/.exec(created)![1];
    expect(buildAndMigrate).toBe('npm run build && npm run migrate');
    await run(buildAndMigrate);

    expect(JSON.parse(await run(start))).toEqual({
      _id: expect.any(String),
      email: 'user@example.com',
      email_verified: false,
    });
    const loggedCode = /To: user@example\.com[\s\S]*?\b(\d{6})\b/;
    await waitFor(() => Promise.resolve(loggedCode.test(devOutput)), 30_000);
    values.code = loggedCode.exec(devOutput)![1];

    expect(JSON.parse(await run(exchange))).toEqual({
      access_token: expect.stringMatching(/^eyJ/),
      id_token: expect.stringMatching(/^eyJ/),
      token_type: 'Bearer',
      expires_in: 86400,
      scope: 'openid email',
    });

    // "Single-page apps": the SPA client's command, as written, against the same database.
    expect(spaClient).toHaveLength(1);
    expect(await run(spaClient[0])).toMatch(/client_id:\s+\S+/);
  });
});
