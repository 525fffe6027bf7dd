import { Queue } from 'bullmq';
import Fastify from 'fastify';
import IORedis from 'ioredis';
import {
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomInt,
  sign,
  timingSafeEqual,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { Pool } from 'pg';
import { floorCodeHmac } from './floor-code-hmac';

/**
 * The benchmark FLOOR (not part of the product): the cheapest honest server for POST /passwordless/start. It does the
 * same essential work as the service — random id and code, HMAC of the code, sealed job payload, one INSERT of an
 * equivalent verifications row, one BullMQ add of an equivalent job — with no auth, validation, throttling or ORM.
 * A body with a `client_assertion` gets the least an honest server does with one (authenticateAssertion), for the
 * benchmark's "same work" comparison of private_key_jwt. `?durable=1` makes the start keep the service's delivery promise
 * the cheapest way (startDurably). POST /oauth/token is the floor of the OTP exchange (exchange). Configured through the
 * same environment variables as the service.
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

const OTP_ATTEMPTS = 3;
const ACCESS_TOKEN_TTL_S = 86_400;
const ID_TOKEN_TTL_S = 36_000;
// Re-imported from PEM: a generated key's own mutex can deadlock Node 20's GC (see test/utils/keys.ts).
const signingKey = createPrivateKey(
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
);
const signingKid = randomBytes(8).toString('hex');
/** client_secret_post clients' secret hashes, read once at boot. */
const secretHashes = new Map<string, Buffer>();

interface TokenBody {
  client_id: string;
  client_secret: string;
  username: string;
  otp: string;
  realm: string;
  scope?: string;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function signJwt(claims: object, typ: string): string {
  const input = `${b64({ alg: 'RS256', kid: signingKid, typ })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), signingKey).toString('base64url')}`;
}

function secretMatches(clientId: string, secret: string): boolean {
  const expected = secretHashes.get(clientId);
  return !!expected && timingSafeEqual(createHash('sha256').update(secret).digest(), expected);
}

/** A record id's time part, as the service makes ids (creation milliseconds as 12 hex digits). */
const idAt = (ms: number) => ms.toString(16).padStart(12, '0');

/**
 * The least an honest OTP exchange does: the client's secret, one conditional UPDATE that counts the attempt and
 * spends the latest live code if it matches (under the row lock, so the cap and single use hold under concurrency),
 * one user upsert, and the access and id tokens signed with RS256.
 */
async function exchange(body: TokenBody, issuer: string) {
  const { client_id: clientId, username, otp, realm } = body;
  if (!secretMatches(clientId, body.client_secret)) return { status: 401, body: { error: 'access_denied' } };
  const identifier = username.toLowerCase();
  // Only the ids of the codes' lifetime (the bench seeds codes that live an hour): the day's partition, as the service.
  const at = Date.now();
  const { rows } = await pool.query<{ ok: boolean }>(
    `WITH latest AS (
       SELECT id FROM verifications
        WHERE client_id = $1 AND connection = $2 AND identifier = $3
          AND consumed_at IS NULL AND superseded_at IS NULL AND expires_at > now()
          AND id >= $6::bpchar AND id < $7::bpchar
        ORDER BY created_at DESC LIMIT 1 FOR UPDATE)
     UPDATE verifications v
        SET failed_attempts = v.failed_attempts + (v.code_hmac <> $4)::int,
            consumed_at = CASE WHEN v.code_hmac = $4 THEN now() END
       FROM latest WHERE v.id = latest.id AND v.failed_attempts < $5
     RETURNING v.code_hmac = $4 AS ok`,
    [
      clientId,
      realm,
      identifier,
      floorCodeHmac(hashSecret, clientId, realm, identifier, otp),
      OTP_ATTEMPTS,
      idAt(at - 3_600_000),
      idAt(at + 3_600_000),
    ],
  );
  if (!rows[0]?.ok) return { status: 403, body: { error: 'invalid_grant' } };
  const now = new Date();
  const users = await pool.query<{ user_id: string }>(
    `INSERT INTO users (user_id, connection, identifier, verified, created_at, last_login_at) VALUES ($1, $2, $3, true, $4, $4)
     ON CONFLICT (connection, identifier) DO UPDATE SET verified = true, last_login_at = EXCLUDED.last_login_at
     RETURNING user_id`,
    [`email|${randomBytes(12).toString('hex')}`, realm, identifier, now],
  );
  const sub = users.rows[0].user_id;
  const iat = Math.floor(now.getTime() / 1000);
  const scope = body.scope ?? 'openid';
  const accessToken = signJwt(
    {
      iss: issuer,
      sub,
      aud: `${issuer}userinfo`,
      iat,
      exp: iat + ACCESS_TOKEN_TTL_S,
      jti: randomBytes(16).toString('base64url'),
      scope,
      azp: clientId,
      client_id: clientId,
    },
    'at+jwt',
  );
  const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
  const idToken = signJwt(
    {
      iss: issuer,
      sub,
      aud: clientId,
      iat,
      exp: iat + ID_TOKEN_TTL_S,
      email: identifier,
      email_verified: true,
      at_hash: atHash,
    },
    'JWT',
  );
  return {
    status: 200,
    body: { access_token: accessToken, id_token: idToken, scope, expires_in: ACCESS_TOKEN_TTL_S, token_type: 'Bearer' },
  };
}

const app = Fastify({ logger: false });

app.post<{ Body: TokenBody }>('/oauth/token', async (request, reply) => {
  const result = await exchange(request.body, env.ISSUER_BASE_URL ?? '');
  return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
});

app.post<{ Body: StartBody; Querystring: { durable?: string } }>('/passwordless/start', async (request, reply) => {
  const { client_id: clientId, client_assertion: assertion, connection, email } = request.body;
  if (assertion !== undefined && !(await authenticateAssertion(clientId, assertion)))
    return reply.code(401).send({ error: 'access_denied' });
  const identifier = email.toLowerCase();
  const now = new Date();
  // Time-ordered, as the service's ids: the row lands in its day's partition.
  const id = idAt(now.getTime()) + randomBytes(6).toString('hex');
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const row = [
    id,
    clientId,
    connection,
    identifier,
    createHmac('sha256', hashSecret).update(`code\0${id}\0${code}`).digest('hex'),
    new Date(now.getTime() + 180_000),
    request.ip,
    now,
  ];
  const job = { verificationId: id, sealedSecret: seal(id, code) };
  if (request.query.durable !== undefined) await startDurably(row, job);
  else {
    await pool.query(`INSERT INTO verifications ${VERIFICATION_COLUMNS} VALUES ${VERIFICATION_VALUES}`, row);
    await jobs.add(JOB_NAME, job, jobOptions(id));
  }
  return { _id: id, email: identifier, email_verified: false };
});

const VERIFICATION_COLUMNS =
  '(id, client_id, connection, identifier, send, code_hmac, auth_params, expires_at, request_ip, created_at)';
const VERIFICATION_VALUES = "($1, $2, $3, $4, 'code', $5, '{}', $6, $7, $8)";
const JOB_NAME = 'deliver-verification';
/** The same job options as DeliveryQueue.enqueue gives, without its enqueue timeout. */
const jobOptions = (id: string) => ({
  jobId: `otp-${id}`,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: false,
});

/**
 * The start with the service's promise that a 200 is delivered even if Redis fails afterwards, done the cheapest way:
 * the record and its job in one commit (a transactional outbox of the floor's own, which no relay of the service's
 * sees), answered once committed; a relay in this process moves what committed to BullMQ in batches, at most one pass
 * per RELAY_SPACING_MS under load. No notification, no liveness check, no retry bookkeeping.
 */
async function startDurably(row: unknown[], job: { verificationId: string; sealedSecret: string }): Promise<void> {
  await pool.query(
    `WITH v AS (INSERT INTO verifications ${VERIFICATION_COLUMNS} VALUES ${VERIFICATION_VALUES})
     INSERT INTO floor_outbox (verification_id, payload, created_at) VALUES ($1, $9, $8)`,
    [...row, job],
  );
  relaySoon();
}

const RELAY_SPACING_MS = 20;
const RELAY_BATCH = 200;
let relayScheduled = false;

function relaySoon(): void {
  if (relayScheduled) return;
  relayScheduled = true;
  setTimeout(() => void relayPass().finally(() => (relayScheduled = false)), RELAY_SPACING_MS);
}

async function relayPass(): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ verification_id: string; payload: { verificationId: string } }>(
      `DELETE FROM floor_outbox WHERE verification_id = ANY (ARRAY(
         SELECT verification_id FROM floor_outbox ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
       RETURNING verification_id, payload`,
      [RELAY_BATCH],
    );
    await jobs.addBulk(rows.map((r) => ({ name: JOB_NAME, data: r.payload, opts: jobOptions(r.verification_id) })));
    await client.query('COMMIT');
    if (rows.length === RELAY_BATCH) relaySoon();
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    console.error(err);
  } finally {
    client.release();
  }
}

async function listen(): Promise<void> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS floor_outbox (verification_id char(24) PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL)',
  );
  const { rows } = await pool.query<{ client_id: string; jwks: { keys: JsonWebKey[] } }>(
    "SELECT client_id, jwks FROM clients WHERE token_endpoint_auth_method = 'private_key_jwt'",
  );
  for (const { client_id: clientId, jwks } of rows)
    assertionKeys.set(clientId, createPublicKey({ key: jwks.keys[0], format: 'jwk' }));
  const secrets = await pool.query<{ client_id: string; client_secret_hash: string }>(
    "SELECT client_id, client_secret_hash FROM clients WHERE client_secret_hash LIKE 'sha256:%'",
  );
  for (const { client_id: clientId, client_secret_hash: hash } of secrets.rows)
    secretHashes.set(clientId, Buffer.from(hash.slice('sha256:'.length), 'hex'));
  await app.listen({ port: Number(env.PORT), host: '127.0.0.1' });
}

listen().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
