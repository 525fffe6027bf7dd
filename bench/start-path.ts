import 'reflect-metadata';
import { Session } from 'node:inspector/promises';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/app-config';
import { createHttpApp } from '../src/http-app';
import { BenchEnvironment } from './bench-environment';

/**
 * Which source files one successful start runs (`npm run bench:start-path`): the API in-process, warmed up, then V8's
 * precise coverage over exactly one `client_secret_post` start, request to commit. A file counts when at least one
 * of its functions ran during that request; lines are the files' total lines.
 */
const WARM_UP_STARTS = 20;

async function main(): Promise<void> {
  const env = await BenchEnvironment.create(4);
  Object.assign(process.env, env.env, { PORT: '0', LOG_LEVEL: 'warn' });
  const app = await createHttpApp(loadConfig());
  await app.listen(0, '127.0.0.1');
  const url = `${await app.getUrl()}/passwordless/start`.replace('[::1]', '127.0.0.1');
  let counter = 0;
  const start = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: env.secretClient.clientId,
        client_secret: env.secretClient.secret,
        connection: 'email',
        email: `path.${counter++}@bench.example.com`,
        send: 'code',
      }),
    });
    if (response.status !== 200) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  };
  try {
    for (let i = 0; i < WARM_UP_STARTS; i++) await start();
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    await start();
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
    const { readFileSync } = await import('node:fs');
    const lines = files.reduce((sum, file) => sum + readFileSync(`${root}${file}`, 'utf8').split('\n').length, 0);
    console.log(files.join('\n'));
    console.log(`\n${files.length} files, ${lines} lines run by one start (request to commit)`);
  } finally {
    await app.close();
    await env.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
