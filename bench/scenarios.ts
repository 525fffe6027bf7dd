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
  return () => JSON.stringify({ client_id: client.clientId, client_secret: client.secret, connection: 'email', email: email(), send: 'code' });
}

/**
 * private_key_jwt: every request needs an assertion with a fresh jti, signed in advance so the load generator does
 * no RSA work while it measures. Running out shows up as errors (a deliberately invalid assertion).
 */
async function assertionBodies(client: TestClient, count: number, audience: string): Promise<() => string> {
  const assertions: string[] = [];
  while (assertions.length < count) {
    const batch = Math.min(SIGNING_BATCH, count - assertions.length);
    assertions.push(...(await Promise.all(Array.from({ length: batch }, () => signAssertion(client, audience, { expiresIn: 300 })))));
  }
  const email = distinctEmails();
  let next = 0;
  const nextAssertion = () => {
    if (next === assertions.length) console.warn(`  all ${assertions.length} pre-signed assertions used: the rest fail (errors)`);
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

export function startScenarios(env: BenchEnvironment): Scenario[] {
  const start = '/passwordless/start';
  return [
    {
      key: 'floor',
      label: 'floor (plain Fastify + pg + BullMQ)',
      server: 'floor',
      path: start,
      targeted: false,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, distinctEmails())),
    },
    {
      key: 'secret',
      label: 'start, client_secret_post',
      server: 'service',
      path: start,
      targeted: true,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, distinctEmails())),
    },
    {
      key: 'jwt',
      label: 'start, private_key_jwt (RS256)',
      server: 'service',
      path: start,
      targeted: true,
      bodies: (expected, baseUrl) => assertionBodies(env.jwtClient, expected, `${baseUrl}/`),
    },
    {
      key: 'same',
      label: 'start, client_secret_post, one email',
      server: 'service',
      path: start,
      targeted: false,
      bodies: () => Promise.resolve(secretPostBodies(env.secretClient, () => 'same.person@bench.example.com')),
    },
  ];
}
