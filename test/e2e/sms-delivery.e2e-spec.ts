import { jwtVerify } from 'jose';
import { TwilioSmsProvider } from '../../src/delivery/sms/twilio-sms.provider';
import { SecretHasher } from '../../src/verification/secret-hasher';
import { attemptsOf, createConnection, waitForStatus } from '../utils/delivery-helpers';
import { FakeSmsGateway, FakeTwilio } from '../utils/fake-sms-vendors';
import { createClient, uniquePhone, type TestClient } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix, startTestWorker, type TestWorker } from '../utils/test-worker';

/** Default SMS: application name in the text, Web OTP binding line last (origin host of ISSUER_BASE_URL). */
const DEFAULT_SMS = /^(\d{6}) is your verification code for (.+)\.\n\n@tenant\.example\.com #(\d{6})$/;

async function startStack(
  name: string,
  env: Record<string, string>,
): Promise<{ t: TestApp; worker: TestWorker; client: TestClient }> {
  const fullEnv = {
    REDIS_PREFIX: filePrefix(name),
    WORKER_QUEUES: 'sms',
    DELIVERY_MAX_ATTEMPTS: '3',
    DELIVERY_BACKOFF_MS: '20',
    ...env,
  };
  const t = await startTestApp({ env: fullEnv });
  const worker = await startTestWorker(fullEnv);
  return { t, worker, client: await createClient(t.dataSource) };
}

const startSms = (
  t: TestApp,
  client: TestClient,
  phone: string,
  connection = 'sms',
  headers?: Record<string, string>,
) =>
  t.post(
    '/passwordless/start',
    { client_id: client.clientId, client_secret: client.secret, connection, phone_number: phone },
    headers,
  );

describe('SMS delivery worker', () => {
  describe('Twilio', () => {
    let twilio: FakeTwilio;
    let t: TestApp;
    let worker: TestWorker;
    let client: TestClient;

    beforeAll(async () => {
      twilio = await FakeTwilio.start();
      ({ t, worker, client } = await startStack('twilio', {
        SMS_PROVIDER: 'twilio',
        TWILIO_BASE_URL: twilio.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
      }));
    });

    afterAll(async () => {
      await worker.close();
      await t.close();
      await twilio.close();
    });

    it('should send the code through Twilio with the application name and the Web OTP line', async () => {
      const phone = uniquePhone();
      const res = await startSms(t, client, phone);
      const id = res.body._id as string;

      const record = await waitForStatus(t.dataSource, id, 'sent');
      const [message] = twilio.sentTo(phone);
      const [, code, appName, boundCode] = DEFAULT_SMS.exec(message.body)!;
      expect(appName).toBe(`Test ${client.clientId.slice(0, 6)}`);
      expect(boundCode).toBe(code);
      expect(new SecretHasher(t.config).matches(id, 'code', code, record.code_hmac)).toBe(true);
      expect(message.from).toBe('+15005550006');
      expect(record.provider_message_id).toBe(message.sid);
      expect(await attemptsOf(t.dataSource, id)).toEqual([
        { attempt: 1, provider: 'twilio', outcome: 'sent', provider_message_id: message.sid, error: null },
      ]);
    });

    it('should fail at once on Twilio error 21211 (invalid number)', async () => {
      const phone = uniquePhone();
      twilio.script(phone, [21211]);
      const res = await startSms(t, client, phone);
      const id = res.body._id as string;

      await waitForStatus(t.dataSource, id, 'failed');
      expect(await attemptsOf(t.dataSource, id)).toEqual([
        {
          attempt: 1,
          provider: 'twilio',
          outcome: 'failed',
          provider_message_id: null,
          error: 'Twilio HTTP 400: error 21211',
        },
      ]);
      expect(twilio.requestsTo(phone)).toBe(1);
      expect(twilio.sentTo(phone)).toHaveLength(0);
    });

    it('should retry HTTP 500 and 429 and then deliver once', async () => {
      const phone = uniquePhone();
      twilio.script(phone, [500, 429]);
      const res = await startSms(t, client, phone);
      const id = res.body._id as string;

      await waitForStatus(t.dataSource, id, 'sent');
      expect((await attemptsOf(t.dataSource, id)).map((a) => [a.outcome, a.error])).toEqual([
        ['retry', 'Twilio HTTP 500: error 20500'],
        ['retry', 'Twilio HTTP 429: error 20500'],
        ['sent', null],
      ]);
      expect(twilio.sentTo(phone)).toHaveLength(1);
    });

    it('should send through a Messaging Service instead of a sender when one is configured', async () => {
      const sut = new TwilioSmsProvider(
        {
          baseUrl: twilio.url,
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          messagingServiceSid: 'MG0123',
        },
        worker.config.deliveryTimeoutMs,
      );
      const phone = uniquePhone();
      const { providerMessageId } = await sut.send({ to: phone, from: 'Acme', body: 'hello' });
      expect(twilio.sentTo(phone)).toEqual([
        { sid: providerMessageId, to: phone, from: undefined, messagingServiceSid: 'MG0123', body: 'hello' },
      ]);
    });

    it('should use a per-language SMS template and still end with the Web OTP line', async () => {
      const connection = await createConnection(t.dataSource, 'sms', {
        templates: { fr: { sms: 'Votre code {{ application.name }} : {{ password }}' } },
      });
      const frClient = await createClient(t.dataSource, { connections: [connection] });
      const phone = uniquePhone();
      const res = await startSms(t, frClient, phone, connection, { 'x-request-language': 'fr' });
      await waitForStatus(t.dataSource, res.body._id as string, 'sent');
      expect(twilio.sentTo(phone)[0].body).toMatch(
        new RegExp(`^Votre code Test ${frClient.clientId.slice(0, 6)} : (\\d{6})\\n\\n@tenant\\.example\\.com #\\1$`),
      );
    });
  });

  describe('HTTP gateway (Auth0 legacy custom SMS gateway)', () => {
    const secret = 'gateway-shared-secret-0123456789';
    let gateway: FakeSmsGateway;
    let t: TestApp;
    let worker: TestWorker;
    let client: TestClient;

    beforeAll(async () => {
      gateway = await FakeSmsGateway.start();
      ({ t, worker, client } = await startStack('gateway', {
        SMS_PROVIDER: 'http',
        SMS_GATEWAY_URL: gateway.url,
        SMS_GATEWAY_JWT_SECRET: Buffer.from(secret).toString('base64'),
        SMS_GATEWAY_JWT_SECRET_BASE64: 'true',
        SMS_GATEWAY_JWT_SUBJECT: 'passwordless',
        SMS_GATEWAY_JWT_AUDIENCE: 'urn:sms-gateway',
      }));
    });

    afterAll(async () => {
      await worker.close();
      await t.close();
      await gateway.close();
    });

    it('should POST {recipient, body, sender} with a Bearer JWT signed with the shared secret', async () => {
      const phone = uniquePhone();
      const res = await startSms(t, client, phone);
      const id = res.body._id as string;

      const record = await waitForStatus(t.dataSource, id, 'sent');
      const [message] = gateway.sentTo(phone);
      expect(message.body).toEqual({
        recipient: phone,
        body: expect.stringMatching(DEFAULT_SMS),
        sender: 'Passwordless',
      });
      const code = DEFAULT_SMS.exec(message.body.body)![1];
      expect(new SecretHasher(t.config).matches(id, 'code', code, record.code_hmac)).toBe(true);
      const token = message.authorization!.replace(/^Bearer /, '');
      const { payload } = await jwtVerify(token, Buffer.from(secret), {
        audience: 'urn:sms-gateway',
        subject: 'passwordless',
        algorithms: ['HS256'],
      });
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(record.provider_message_id).toBe(message.id);
    });

    it('should retry a 503 from the gateway and fail at once on a 400', async () => {
      const retried = uniquePhone();
      const rejected = uniquePhone();
      gateway.script(retried, [503]);
      gateway.script(rejected, [400]);
      const ok = await startSms(t, client, retried);
      const bad = await startSms(t, client, rejected);

      await waitForStatus(t.dataSource, ok.body._id as string, 'sent');
      await waitForStatus(t.dataSource, bad.body._id as string, 'failed');
      expect((await attemptsOf(t.dataSource, ok.body._id as string)).map((a) => a.outcome)).toEqual(['retry', 'sent']);
      expect(await attemptsOf(t.dataSource, bad.body._id as string)).toEqual([
        { attempt: 1, provider: 'http', outcome: 'failed', provider_message_id: null, error: 'SMS gateway HTTP 400' },
      ]);
      expect(gateway.requestsTo(rejected)).toBe(1);
      expect(gateway.sentTo(retried)).toHaveLength(1);
    });
  });
});
