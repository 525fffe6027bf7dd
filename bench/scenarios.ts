import { JWT_BEARER_ASSERTION_TYPE } from '../src/clients/client-assertion.verifier';
import { signAssertion, type TestClient } from '../test/utils/factories';
import type { BenchEnvironment } from './bench-environment';

export type ServerKind = 'floor' | 'service';

export interface Scenario {
  key: string;
  label: string;
  server: ServerKind;
  path: string;
  /** True for the scenarios the targets apply to (the others are context). */
  targeted: boolean;
  /** The floor scenario the targets compare it with (default `floor`, the start floor). */
  floor?: string;
  /** Floor scenarios doing more of this one's work (its client authentication, its durability), shown beside the ratios. */
  sameWorkFloors?: string[];
  /** The keys of a successful answer (checked once before the load). */
  answerKeys: string[];
  /**
   * Prepares the bodies for one measurement of about `expectedRequests` requests (warm-up included) against the
   * server at `baseUrl`. Anything expensive (signing) happens here, before the load starts.
   */
  bodies(expectedRequests: number, baseUrl: string): Promise<() => string>;
}

const SIGNING_BATCH = 256;

/** A new address per request, so starts for different people never wait on each other's supersede lock. */
function distinctEmails(): () => string {
  const run = Date.now().toString(36);
  let counter = 0;
  return () => `user.${run}.${counter++}@bench.example.com`;
}

function secretPostBodies(client: TestClient, email: () => string): () => string {
  return () =>
    JSON.stringify({
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email: email(),
      send: 'code',
    });
}

/**
 * private_key_jwt: every request needs an assertion with a fresh jti, signed in advance so the load generator does
 * no RSA work while it measures. Running out shows up as errors (a deliberately invalid assertion).
 */
async function assertionBodies(client: TestClient, count: number, audience: string): Promise<() => string> {
  const assertions: string[] = [];
  while (assertions.length < count) {
    const batch = Math.min(SIGNING_BATCH, count - assertions.length);
    assertions.push(
      ...(await Promise.all(Array.from({ length: batch }, () => signAssertion(client, audience, { expiresIn: 300 })))),
    );
  }
  const email = distinctEmails();
  let next = 0;
  const nextAssertion = () => {
    if (next === assertions.length)
      console.warn(`  all ${assertions.length} pre-signed assertions used: the rest fail (errors)`);
    return assertions[next++] ?? 'exhausted';
  };
  return () =>
    JSON.stringify({
      client_id: client.clientId,
      client_assertion: nextAssertion(),
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      connection: 'email',
      email: email(),
      send: 'code',
    });
}

const START_ANSWER = ['_id', 'email', 'email_verified'];
const TOKEN_ANSWER = ['access_token', 'expires_in', 'id_token', 'scope', 'token_type'];
const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';
const SEEDED_CODE = '246810';

/** /oauth/token OTP grant: each request redeems its own live code (seeded records), so none fails as spent. */
async function tokenBodies(env: BenchEnvironment, count: number, forFloor = false): Promise<() => string> {
  const client = env.secretClient;
  const emails = await env.seedLiveCodes(client, count, SEEDED_CODE, forFloor);
  let next = 0;
  return () =>
    JSON.stringify({
      grant_type: OTP_GRANT,
      client_id: client.clientId,
      client_secret: client.secret,
      username: emails[next++] ?? 'exhausted@bench.example.com',
      otp: SEEDED_CODE,
      realm: 'email',
      scope: 'openid profile email',
    });
}

export function startScenarios(env: BenchEnvironment): Scenario[] {
  const start = '/passwordless/start';
  return [
    {
      key: 'floor',
      label: 'floor (plain Fastify + pg + BullMQ)',
      server: 'floor',
      path: start,
      targeted: false,
      answerKeys: START_ANSWER,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, distinctEmails())),
    },
    {
      key: 'floor-jwt',
      label: 'floor, private_key_jwt (RS256 check, jti SET NX)',
      server: 'floor',
      path: start,
      targeted: false,
      answerKeys: START_ANSWER,
      bodies: (expected, baseUrl) => assertionBodies(env.jwtClient, expected, `${baseUrl}/`),
    },
    {
      key: 'floor-durable',
      label: 'floor, durable (record and job in one commit, relay)',
      server: 'floor',
      path: `${start}?durable=1`,
      targeted: false,
      answerKeys: START_ANSWER,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, distinctEmails())),
    },
    {
      key: 'secret',
      label: 'start, client_secret_post',
      server: 'service',
      path: start,
      targeted: true,
      sameWorkFloors: ['floor-durable'],
      answerKeys: START_ANSWER,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, distinctEmails())),
    },
    {
      key: 'jwt',
      label: 'start, private_key_jwt (RS256)',
      server: 'service',
      path: start,
      targeted: true,
      sameWorkFloors: ['floor-jwt'],
      answerKeys: START_ANSWER,
      bodies: (expected, baseUrl) => assertionBodies(env.jwtClient, expected, `${baseUrl}/`),
    },
    {
      key: 'same',
      label: 'start, client_secret_post, one email',
      server: 'service',
      path: start,
      targeted: false,
      answerKeys: START_ANSWER,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, () => 'same.person@bench.example.com')),
    },
    {
      key: 'floor-token',
      label: 'floor, OTP exchange (one UPDATE, user upsert, two RS256)',
      server: 'floor',
      path: '/oauth/token',
      targeted: false,
      answerKeys: TOKEN_ANSWER,
      bodies: (expected) => tokenBodies(env, expected, true),
    },
    {
      key: 'token',
      label: 'token exchange, OTP grant, client_secret_post',
      server: 'service',
      path: '/oauth/token',
      targeted: true,
      floor: 'floor-token',
      answerKeys: TOKEN_ANSWER,
      bodies: (expected) => tokenBodies(env, expected),
    },
  ];
}
