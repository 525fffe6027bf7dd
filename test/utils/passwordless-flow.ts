import { Clock } from '../../src/common/clock';
import { QueueName } from '../../src/delivery/delivery.constants';
import { buildMagicLink } from '../../src/verification/magic-link';
import { SecretBox, type DeliverySecret } from '../../src/verification/secret-box';
import { signAssertion, type TestClient } from './factories';
import type { QueueInspector } from './queue-inspector';
import type { TestApp } from './test-app';

export const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface StartedFlow extends DeliverySecret {
  id: string;
}

/** Client credentials for a body: the secret when the client has one, else only the client_id (public client). */
export const credentials = (client: TestClient): Record<string, string> =>
  client.secret ? { client_id: client.clientId, client_secret: client.secret } : { client_id: client.clientId };

/**
 * POST /passwordless/start, then read the code (and link token) the way a delivery worker would: from the BullMQ job,
 * opened with the service's SecretBox.
 */
export async function startFlow(
  t: TestApp,
  inspector: QueueInspector,
  client: TestClient,
  body: Record<string, unknown>,
): Promise<StartedFlow> {
  const auth = client.privateKey
    ? {
        client_id: client.clientId,
        client_assertion: await signAssertion(client, t.config.issuerBaseUrl),
        client_assertion_type: JWT_BEARER,
      }
    : credentials(client);
  const res = await t.post('/passwordless/start', { ...auth, ...body });
  if (res.status !== 200) throw new Error(`start failed: ${res.status} ${res.text}`);
  const id = res.body._id as string;
  return { id, ...(await readSecret(t, inspector, id, body.connection === 'sms' ? QueueName.Sms : QueueName.Email)) };
}

export async function readSecret(
  t: TestApp,
  inspector: QueueInspector,
  id: string,
  queue: QueueName,
): Promise<DeliverySecret> {
  const job = await inspector.job(queue, id);
  if (!job) throw new Error(`no delivery job for ${id}`);
  return new SecretBox(t.config).open(id, job.data.sealedSecret);
}

/**
 * Starts a magic-link flow and returns the emailed link's path + query on the test server and its parameters, built
 * from the authParams the service stored (as the email worker builds it).
 */
export async function sendMagicLink(
  t: TestApp,
  inspector: QueueInspector,
  client: TestClient,
  authParams: Record<string, string>,
  email: string,
) {
  const flow = await startFlow(t, inspector, client, { connection: 'email', email, send: 'link', authParams });
  const [record] = await t.dataSource.query<Array<{ auth_params: Record<string, string> }>>(
    'SELECT auth_params FROM verifications WHERE id = $1',
    [flow.id],
  );
  const link = new URL(
    buildMagicLink(
      t.config.issuerBaseUrl,
      { clientId: client.clientId, connection: 'email', identifier: email, authParams: record.auth_params },
      flow.linkToken!,
    ),
  );
  return { ...flow, email, path: `${link.pathname}${link.search}`, params: Object.fromEntries(link.searchParams) };
}

/** How many verification records an email or phone number has (0: the request stored nothing). */
export async function verificationCount(t: TestApp, identifier: string): Promise<number> {
  const [row] = await t.dataSource.query<Array<{ n: string }>>(
    'SELECT count(*) AS n FROM verifications WHERE identifier = $1',
    [identifier],
  );
  return Number(row.n);
}

/** The OTP grant as the Auth0 Node SDK sends it (form-urlencoded). */
export function otpGrant(
  t: TestApp,
  client: TestClient,
  fields: Record<string, string>,
  headers?: Record<string, string>,
) {
  return t.postForm('/oauth/token', { ...credentials(client), grant_type: OTP_GRANT, ...fields }, headers);
}

/** A clock tests can move, injected in place of the real one. */
/** How far a verification record has been redeemed: failed attempts counted, and when it was spent (or null). */
export async function redemptionState(
  t: TestApp,
  id: string,
): Promise<{ failedAttempts: number; consumedAt: Date | null }> {
  const rows = await t.dataSource.query<Array<{ failed_attempts: number; consumed_at: Date | null }>>(
    'SELECT failed_attempts, consumed_at FROM verifications WHERE id = $1',
    [id],
  );
  return { failedAttempts: rows[0].failed_attempts, consumedAt: rows[0].consumed_at };
}

export class ManualClock extends Clock {
  private offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
