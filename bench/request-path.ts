import 'reflect-metadata';
import IORedis from 'ioredis';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { createHttpApp } from '../src/http-app';
import { BenchEnvironment } from './bench-environment';
import { freePort } from './server-process';

/**
 * What one successful request runs (`npm run bench:path -- --start` or `-- --token`): the API in-process, warmed up,
 * then over exactly one request V8's precise coverage (a file counts when one of its functions ran) and the Postgres
 * statements and Redis commands it sent, counted at the drivers.
 */
const WARM_UP_REQUESTS = 20;
const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';
const SEEDED_CODE = '135790';

/** Counts what goes through the drivers' single entry points (pg's Client#query, ioredis' sendCommand). */
function countRoundTrips(): { statements: string[]; redis: string[] } {
  const seen = { statements: [] as string[], redis: [] as string[] };
  const query = Client.prototype.query;
  Client.prototype.query = function (this: Client, ...args: Parameters<Client['query']>) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    seen.statements.push((text ?? '?').replace(/\s+/g, ' ').slice(0, 90));
    return query.apply(this, args);
  } as Client['query'];
  const sendCommand = IORedis.prototype.sendCommand;
  IORedis.prototype.sendCommand = function (this: IORedis, ...args: Parameters<IORedis['sendCommand']>) {
    seen.redis.push(args[0].name);
    return sendCommand.apply(this, args);
  };
  return seen;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { start: { type: 'boolean' }, token: { type: 'boolean' } } });
  const exchange = Boolean(values.token);
  const env = await BenchEnvironment.create(4);
  Object.assign(process.env, env.env, { PORT: String(await freePort()), LOG_LEVEL: 'warn' });
  const roundTrips = countRoundTrips();
  const app = await createHttpApp(loadConfig());
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const client = env.secretClient;
  const emails = exchange ? await env.seedLiveCodes(client, WARM_UP_REQUESTS + 1, SEEDED_CODE) : [];
  let counter = 0;
  const request = async () => {
    const [path, body] = exchange
      ? [
          '/oauth/token',
          {
            grant_type: OTP_GRANT,
            client_id: client.clientId,
            client_secret: client.secret,
            username: emails[counter++],
            otp: SEEDED_CODE,
            realm: 'email',
            scope: 'openid profile email',
          },
        ]
      : [
          '/passwordless/start',
          {
            client_id: client.clientId,
            client_secret: client.secret,
            connection: 'email',
            email: `path.${counter++}@bench.example.com`,
            send: 'code',
          },
        ];
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  };
  try {
    for (let i = 0; i < WARM_UP_REQUESTS; i++) await request();
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    roundTrips.statements.length = 0;
    roundTrips.redis.length = 0;
    await request();
    const { result } = await session.post('Profiler.takePreciseCoverage');
    await session.post('Profiler.stopPreciseCoverage');
    session.disconnect();

    const root = fileURLToPath(new URL('../../', `file://${__dirname}/`));
    const files = result
      .filter((script) => script.url.startsWith('file://') && script.url.includes(`${sep}src${sep}`))
      .filter((script) => !script.url.includes('node_modules'))
      .filter((script) => script.functions.some((fn) => fn.ranges.some((range) => range.count > 0)))
      .map((script) =>
        relative(root, fileURLToPath(script.url))
          .replace(/^dist-bench\//, '')
          .replace(/\.js$/, '.ts'),
      )
      .sort();
    const lines = files.reduce((sum, file) => sum + readFileSync(`${root}${file}`, 'utf8').split('\n').length, 0);
    const what = exchange ? 'one OTP exchange' : 'one start (request to commit)';
    console.log(files.join('\n'));
    console.log(`\nPostgres statements:\n${roundTrips.statements.map((s) => `  ${s}`).join('\n')}`);
    console.log(`Redis commands: ${roundTrips.redis.join(', ')}`);
    console.log(
      `\n${what}: ${files.length} files (${lines} lines), ${roundTrips.statements.length} Postgres statements, ` +
        `${roundTrips.redis.length} Redis commands`,
    );
  } finally {
    await app.close();
    await env.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
