import { randomBytes } from 'node:crypto';
import { createClient, uniqueEmail } from '../utils/factories';
import { credentials, otpGrant } from '../utils/passwordless-flow';
import { freePort, RedisProcess, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { isolatedRedisPrefix, startTestApp } from '../utils/test-app';
import { startTestWorker } from '../utils/test-worker';
import { spawnRole, type RoleChild } from '../utils/worker-process';

const CODE_IN_MAIL = / is: (\d{6})$/m;

describe('Operator traps', () => {
  it('should open outbox rows and the stored signing key sealed with a key moved to CODE_ENCRYPTION_KEYS', async () => {
    const sink = await SmtpSink.start();
    const oldKey = process.env.CODE_ENCRYPTION_KEY!;
    const newKey = randomBytes(32).toString('base64');
    const env = {
      REDIS_PREFIX: isolatedRedisPrefix(),
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      WORKER_QUEUES: 'email',
    };

    // Sealed with the old key: the generated signing key, and a start left in the outbox (no relay runs).
    const before = await startTestApp({ env, relay: false });
    const client = await createClient(before.dataSource);
    const jwks = (await before.get('/.well-known/jwks.json')).body;
    const email = uniqueEmail();
    const started = await before.post('/passwordless/start', {
      ...credentials(client),
      connection: 'email',
      email,
      send: 'code',
    });
    expect(started.status).toBe(200);
    await before.close();

    // A regenerated key alone: the boot stops, naming the variables, not the values.
    const refused = await startTestApp({ env: { ...env, CODE_ENCRYPTION_KEY: newKey }, relay: false }).catch(
      (err: Error) => err.message,
    );
    expect(refused).toMatch(
      /signing key .* cannot be opened with CODE_ENCRYPTION_KEY or any key in CODE_ENCRYPTION_KEYS/,
    );
    expect(refused).not.toContain(newKey);

    // The old key moved to CODE_ENCRYPTION_KEYS: same JWKS, the old row is delivered, its code logs in.
    const rotated = { ...env, CODE_ENCRYPTION_KEY: newKey, CODE_ENCRYPTION_KEYS: oldKey };
    const after = await startTestApp({ env: rotated });
    const worker = await startTestWorker(rotated);
    try {
      expect((await after.get('/.well-known/jwks.json')).body).toEqual(jwks);
      const [mail] = await sink.waitFor(email);
      const code = CODE_IN_MAIL.exec(mail.text!)![1];
      const token = await otpGrant(after, client, { username: email, otp: code, realm: 'email' });
      expect(token.status).toBe(200);
    } finally {
      await worker.close();
      await after.close();
      await sink.close();
    }
  });

  it('should stop the API, the relay and a worker within SHUTDOWN_GRACE_MS of SIGTERM while Redis is down', async () => {
    const redis = await RedisProcess.start();
    const [apiPort, relayPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: process.env.DATABASE_URL!,
      MIGRATIONS_RUN: 'false',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '2000',
      WORKER_QUEUES: 'email',
    };
    const roles: RoleChild[] = [
      spawnRole('main.ts', { ...env, PORT: String(apiPort), HOST: '127.0.0.1' }),
      spawnRole('relay.ts', { ...env, RELAY_HEALTH_PORT: String(relayPort) }),
      spawnRole('worker.ts', { ...env, WORKER_HEALTH_PORT: String(workerPort) }),
    ];
    try {
      const up = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok;
      for (const port of [apiPort, relayPort, workerPort]) await waitFor(() => up(port).then(Boolean), 30_000, 100);
      await redis.stop();
      // The outage is logged once, naming the setting to check (its password, if any, left out).
      await waitFor(() => Promise.resolve(roles[0].output().includes(`Redis at REDIS_URL=${redis.url}`)), 5000, 50);
      const signalled = Date.now();
      for (const role of roles) role.child.kill('SIGTERM');
      const stopped = await Promise.all(roles.map(async (role) => (await role.exited, Date.now() - signalled)));
      // 2 s of grace plus the process's own exit; a hang would last until SIGKILL.
      for (const ms of stopped) expect(ms).toBeLessThan(5000);
    } finally {
      for (const role of roles) if (role.running()) role.child.kill('SIGKILL');
      await redis.stop().catch(() => undefined);
    }
  });
});
