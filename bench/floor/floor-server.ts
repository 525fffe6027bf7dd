import { Queue } from 'bullmq';
import Fastify from 'fastify';
import IORedis from 'ioredis';
import {
  createCipheriv,
  createHmac,
  createPublicKey,
  randomBytes,
  randomInt,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { Pool } from 'pg';

/**
 * The benchmark FLOOR (not part of the product): the cheapest honest server for POST /passwordless/start. It does the
 * same essential work as the service — random id and code, HMAC of the code, sealed job payload, one INSERT of an
 * equivalent verifications row, one BullMQ add of an equivalent job — with no auth, validation, throttling or ORM.
 * A body with a `client_assertion` gets the least an honest server does with one (authenticateAssertion), for the
 * benchmark's "same work" comparison of private_key_jwt. Configured through the same environment variables as the
 * service.
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

const jtiStore = new IORedis(env.REDIS_URL ?? '', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
/** The `aud` the service accepts: its issuer URL, which ServerProcess gives every server it starts. */
const audience = env.ISSUER_BASE_URL;
/** The private_key_jwt clients' public keys, read once at boot (the floor never sees a key change). */
const assertionKeys = new Map<string, KeyObject>();

interface StartBody {
  client_id: string;
  client_assertion?: string;
  connection: string;
  email: string;
}

interface AssertionClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  jti?: unknown;
}

const decodeJson = <T>(part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as T;

/**
 * RFC 7523 §3 at its cheapest: the RS256 signature with the client's key, the issuer, subject, audience and expiry,
 * and the jti recorded once (SET NX, its own Redis round trip). No kid lookup, lifetime cap or clock tolerance.
 */
async function authenticateAssertion(clientId: string, assertion: string): Promise<boolean> {
  const key = assertionKeys.get(clientId);
  const [header, payload, signature] = assertion.split('.');
  if (!key || signature === undefined || decodeJson<{ alg?: unknown }>(header).alg !== 'RS256') return false;
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) return false;
  const { iss, sub, aud, exp, jti } = decodeJson<AssertionClaims>(payload);
  const now = Date.now() / 1000;
  if (
    iss !== clientId ||
    sub !== clientId ||
    aud !== audience ||
    typeof exp !== 'number' ||
    exp <= now ||
    typeof jti !== 'string'
  )
    return false;
  return (
    (await jtiStore.set(`${prefix}:floor-jti:${clientId}:${jti}`, '1', 'PX', Math.ceil((exp - now) * 1000), 'NX')) ===
    'OK'
  );
}

function seal(id: string, code: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(id));
  const data = Buffer.concat([cipher.update(JSON.stringify({ code }), 'utf8'), cipher.final()]);
  return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${data.toString('base64url')}`;
}

const app = Fastify({ logger: false });

app.post<{ Body: StartBody }>('/passwordless/start', async (request, reply) => {
  const { client_id: clientId, client_assertion: assertion, connection, email } = request.body;
  if (assertion !== undefined && !(await authenticateAssertion(clientId, assertion)))
    return reply.code(401).send({ error: 'access_denied' });
  const identifier = email.toLowerCase();
  const id = randomBytes(12).toString('hex');
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = new Date();
  await pool.query(
    `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, auth_params, expires_at, request_ip, created_at)
     VALUES ($1, $2, $3, $4, 'code', $5, '{}', $6, $7, $8)`,
    [
      id,
      clientId,
      connection,
      identifier,
      createHmac('sha256', hashSecret).update(`code\0${id}\0${code}`).digest('hex'),
      new Date(now.getTime() + 180_000),
      request.ip,
      now,
    ],
  );
  // The same job (name, id, options) as DeliveryQueue.enqueue adds, without its enqueue timeout.
  await jobs.add(
    'deliver-verification',
    { verificationId: id, sealedSecret: seal(id, code) },
    {
      jobId: `otp-${id}`,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: true,
      removeOnFail: false,
    },
  );
  return { _id: id, email: identifier, email_verified: false };
});

async function listen(): Promise<void> {
  const { rows } = await pool.query<{ client_id: string; jwks: { keys: JsonWebKey[] } }>(
    "SELECT client_id, jwks FROM clients WHERE token_endpoint_auth_method = 'private_key_jwt'",
  );
  for (const { client_id: clientId, jwks } of rows)
    assertionKeys.set(clientId, createPublicKey({ key: jwks.keys[0], format: 'jwk' }));
  await app.listen({ port: Number(env.PORT), host: '127.0.0.1' });
}

listen().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
