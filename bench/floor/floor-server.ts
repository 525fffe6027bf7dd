import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { createCipheriv, createHmac, randomBytes, randomInt } from 'node:crypto';
import { Pool } from 'pg';

/**
 * The benchmark FLOOR (not part of the product): the cheapest honest server for POST /passwordless/start. It does the
 * same essential work as the service — random id and code, HMAC of the code, sealed job payload, one INSERT of an
 * equivalent verifications row, one BullMQ add of an equivalent job — with no auth, validation, throttling or ORM.
 * Configured through the same environment variables as the service.
 */
const env = process.env;
const prefix = env.REDIS_PREFIX ?? 'pwlbench';
const hashSecret = env.CODE_HASH_SECRET ?? '';
const encryptionKey = Buffer.from(env.CODE_ENCRYPTION_KEY ?? '', 'base64');
const pool = new Pool({ connectionString: env.DATABASE_URL, max: Number(env.DATABASE_POOL_SIZE ?? 10) });
const jobs = new Queue('email', {
  prefix,
  connection: { url: env.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
});

interface StartBody {
  client_id: string;
  connection: string;
  email: string;
}

function seal(id: string, code: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(id));
  const data = Buffer.concat([cipher.update(JSON.stringify({ code }), 'utf8'), cipher.final()]);
  return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${data.toString('base64url')}`;
}

const app = Fastify({ logger: false });

app.post<{ Body: StartBody }>('/passwordless/start', async (request) => {
  const { client_id: clientId, connection, email } = request.body;
  const identifier = email.toLowerCase();
  const id = randomBytes(12).toString('hex');
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = new Date();
  await pool.query(
    `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, auth_params, expires_at, request_ip, created_at)
     VALUES ($1, $2, $3, $4, 'code', $5, '{}', $6, $7, $8)`,
    [id, clientId, connection, identifier, createHmac('sha256', hashSecret).update(`code\0${id}\0${code}`).digest('hex'), new Date(now.getTime() + 180_000), request.ip, now],
  );
  // The same job (name, id, options) as DeliveryQueue.enqueue adds, without its enqueue timeout.
  await jobs.add('deliver-verification', { verificationId: id, sealedSecret: seal(id, code) }, {
    jobId: `otp-${id}`,
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: false,
  });
  return { _id: id, email: identifier, email_verified: false };
});

app.listen({ port: Number(env.PORT), host: '127.0.0.1' }).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
