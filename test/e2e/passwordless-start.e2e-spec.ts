import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { exportJWK } from 'jose';
import { testKeyPair } from '../utils/keys';
import type { PublicJwk } from '../../src/clients/client.entity';
import { QueueName } from '../../src/delivery/delivery.constants';
import { SecretBox } from '../../src/verification/secret-box';
import { SecretHasher } from '../../src/verification/secret-hasher';
import { recordOf } from '../utils/delivery-helpers';
import { createClient, signAssertion, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { QueueInspector } from '../utils/queue-inspector';
import { waitFor } from '../utils/redis-process';
import { startTestApp, type TestApp } from '../utils/test-app';

const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Sends bytes exactly as given (fetch cannot send an absolute-form request target). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('POST /passwordless/start', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const start = (body: Record<string, unknown>, headers?: Record<string, string>) =>
    t.post('/passwordless/start', body, headers);
  const withSecret = (client: TestClient, body: Record<string, unknown>) => ({
    client_id: client.clientId,
    client_secret: client.secret,
    ...body,
  });
  const outboxEmptied = (ids: string[]) =>
    waitFor(
      async () =>
        (await t.dataSource.query('SELECT 1 FROM delivery_outbox WHERE verification_id = ANY($1)', [ids])).length === 0,
      5000,
    );
  const record = async (id: string) =>
    (await t.dataSource.query('SELECT * FROM verifications WHERE id = $1', [id]))[0] as
      Record<string, unknown> | undefined;

  describe('success', () => {
    it('should answer an email start with Auth0’s body, store only HMACs and queue an encrypted job', async () => {
      const email = uniqueEmail().replace('user', 'User');
      const res = await start(withSecret(web, { connection: 'email', email, send: 'code' }));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        _id: expect.stringMatching(/^[0-9a-f]{24}$/),
        email: email.toLowerCase(),
        email_verified: false,
      });
      const id = res.body._id as string;
      // The outbox relay queues the job just after the answer and takes the outbox row in the same transaction (it
      // commits a moment after the job is visible); the record stays `pending` until a worker settles it.
      const job = await inspector.job(QueueName.Email, id);
      await outboxEmptied([id]);
      const row = await recordOf(t.dataSource, id);
      expect(row).toMatchObject({
        identifier: email.toLowerCase(),
        send: 'code',
        delivery_status: 'pending',
        failed_attempts: 0,
      });

      expect(job?.data.verificationId).toBe(id);
      const secret = new SecretBox(t.config).open(id, job!.data.sealedSecret);
      expect(secret.code).toMatch(/^\d{6}$/);
      expect(JSON.stringify(job!.data)).not.toContain(secret.code);
      expect(JSON.stringify(row)).not.toContain(secret.code);
      expect(new SecretHasher(t.config).matches(id, 'code', secret.code, row.code_hmac)).toBe(true);
      expect(row.link_token_hmac).toBeNull();
    });

    it('should queue a job for every one of a burst of concurrent starts and leave the outbox empty', async () => {
      const responses = await Promise.all(
        Array.from({ length: 40 }, () =>
          start(withSecret(web, { connection: 'email', email: uniqueEmail(), send: 'code' })),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
      const ids = responses.map((r) => r.body._id as string);
      const jobs = await Promise.all(ids.map((id) => inspector.job(QueueName.Email, id)));
      expect(jobs.map((job) => job?.data.verificationId)).toEqual(ids);
      await outboxEmptied(ids);
    });

    it('should default email to a link whose token is stored only as an HMAC', async () => {
      const res = await start(
        withSecret(web, { connection: 'email', email: uniqueEmail(), authParams: { scope: 'openid', state: 'xyz' } }),
      );
      expect(res.status).toBe(200);
      const id = res.body._id as string;
      const row = await record(id);
      expect(row).toMatchObject({
        send: 'link',
        auth_params: { scope: 'openid', state: 'xyz', redirect_uri: 'https://app.example.com/callback' },
      });
      const job = await inspector.job(QueueName.Email, id);
      const secret = new SecretBox(t.config).open(id, job!.data.sealedSecret);
      expect(Buffer.from(secret.linkToken!, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(new SecretHasher(t.config).matches(id, 'link', secret.linkToken!, row!.link_token_hmac as string)).toBe(
        true,
      );
    });

    it('should answer an SMS start in E.164 with request_language from x-request-language, defaulting send to code', async () => {
      const phone = uniquePhone();
      const res = await start(withSecret(web, { connection: 'sms', phone_number: phone }), {
        'x-request-language': 'fr',
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        _id: expect.stringMatching(/^[0-9a-f]{24}$/),
        phone_number: phone,
        phone_verified: false,
        request_language: 'fr',
      });
      expect(await record(res.body._id as string)).toMatchObject({ send: 'code', request_language: 'fr' });
      expect(await inspector.job(QueueName.Sms, res.body._id as string)).toBeDefined();
    });

    it('should take request_language from accept-language when x-request-language is absent', async () => {
      const res = await start(withSecret(web, { connection: 'sms', phone_number: uniquePhone() }), {
        'accept-language': 'de;q=0.5, es-MX, en;q=0.8',
      });
      expect(res.body.request_language).toBe('es-MX');
      const none = await start(withSecret(web, { connection: 'sms', phone_number: uniquePhone() }));
      expect(none.body.request_language).toBeNull();
    });

    it('should accept form-urlencoded bodies with bracketed authParams', async () => {
      const form = new URLSearchParams({
        client_id: web.clientId,
        client_secret: web.secret!,
        connection: 'email',
        email: uniqueEmail(),
        send: 'link',
        'authParams[scope]': 'openid email',
      });
      const res = await t.post('/passwordless/start', form.toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(200);
      expect(await record(res.body._id as string)).toMatchObject({ auth_params: { scope: 'openid email' } });
    });

    it('should accept a JSON body sent as text/plain (the Auth0 Node SDK with custom headers)', async () => {
      const body = JSON.stringify(withSecret(web, { connection: 'email', email: uniqueEmail(), send: 'code' }));
      const res = await t.post('/passwordless/start', body, { 'content-type': 'text/plain;charset=UTF-8' });
      expect(res.status).toBe(200);
    });

    it('should supersede the previous live record for the same identifier', async () => {
      const email = uniqueEmail();
      const first = await start(withSecret(web, { connection: 'email', email, send: 'code' }));
      const second = await start(withSecret(web, { connection: 'email', email: email.toUpperCase(), send: 'code' }));
      expect((await record(first.body._id as string))?.superseded_at).toBeInstanceOf(Date);
      expect((await record(second.body._id as string))?.superseded_at).toBeNull();
    });

    it('should leave exactly one live record, and queue it, after concurrent starts for one identifier', async () => {
      const phone = uniquePhone();
      const responses = await Promise.all(
        Array.from({ length: 12 }, () => start(withSecret(web, { connection: 'sms', phone_number: phone }))),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
      const live: Array<{ id: string }> = await t.dataSource.query(
        'SELECT id FROM verifications WHERE identifier = $1 AND superseded_at IS NULL AND consumed_at IS NULL',
        [phone],
      );
      expect(live).toHaveLength(1);
      // Starts that shared a batch supersede each other in it too: every other record is superseded no earlier than it was created.
      const superseded = await t.dataSource.query(
        'SELECT 1 FROM verifications WHERE identifier = $1 AND superseded_at >= created_at',
        [phone],
      );
      expect(superseded).toHaveLength(11);
      // (A superseded record may have been queued before a later start superseded it: the worker then skips it.)
      expect(await inspector.job(QueueName.Sms, live[0].id)).toBeDefined();
      await outboxEmptied(responses.map((r) => r.body._id as string));
    });
  });

  describe('client authentication', () => {
    it('should accept client_secret_basic', async () => {
      const client = await createClient(t.dataSource, { authMethod: 'client_secret_basic' });
      const basic = Buffer.from(`${client.clientId}:${client.secret}`).toString('base64');
      const res = await start(
        { connection: 'email', email: uniqueEmail(), send: 'code' },
        { authorization: `Basic ${basic}` },
      );
      expect(res.status).toBe(200);
    });

    it('should let a public (spa) client start with only its client_id', async () => {
      const spa = await createClient(t.dataSource, { authMethod: 'none' });
      expect(
        (await start({ client_id: spa.clientId, connection: 'email', email: uniqueEmail(), send: 'code' })).status,
      ).toBe(200);
    });

    it('should ignore a non-Basic Authorization header (Auth0 samples add Bearer) and a stray phone_number on email', async () => {
      const spa = await createClient(t.dataSource, { authMethod: 'none' });
      const res = await start(
        { client_id: spa.clientId, connection: 'email', email: uniqueEmail(), phone_number: 'bad', send: 'code' },
        { authorization: 'Bearer abc' },
      );
      expect(res.status).toBe(200);
    });

    it('should refuse a public client that sends a secret', async () => {
      const spa = await createClient(t.dataSource, { authMethod: 'none' });
      const res = await start({
        client_id: spa.clientId,
        client_secret: 'x',
        connection: 'email',
        email: uniqueEmail(),
      });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });

    it('should refuse two authentication mechanisms at once', async () => {
      const basic = Buffer.from(`${web.clientId}:${web.secret}`).toString('base64');
      const res = await start(withSecret(web, { connection: 'email', email: uniqueEmail() }), {
        authorization: `Basic ${basic}`,
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'client authentication must only be provided using one mechanism',
      });
    });

    it('should refuse an unknown client_id like a wrong secret', async () => {
      const res = await start({ client_id: 'nope', client_secret: 'x', connection: 'email', email: uniqueEmail() });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    });

    describe('private_key_jwt', () => {
      let jwtClient: TestClient;
      beforeAll(async () => {
        const other = testKeyPair('rsa', { modulusLength: 2048 });
        jwtClient = await createClient(t.dataSource, {
          authMethod: 'private_key_jwt',
          extraJwks: [{ ...(await exportJWK(other.publicKey)), kid: 'other' } as PublicJwk],
        });
      });

      const startWith = (assertion: string) =>
        start({
          client_id: jwtClient.clientId,
          client_assertion: assertion,
          client_assertion_type: ASSERTION_TYPE,
          connection: 'email',
          email: uniqueEmail(),
          send: 'code',
        });

      it('should accept an assertion without kid signed by any registered key', async () => {
        expect((await startWith(await signAssertion(jwtClient, t.config.issuerBaseUrl))).status).toBe(200);
      });

      it('should accept the endpoint URL as audience', async () => {
        expect(
          (await startWith(await signAssertion(jwtClient, 'https://tenant.example.com/passwordless/start'))).status,
        ).toBe(200);
      });

      it('should accept RS384, PS256 and ES256 keys', async () => {
        for (const alg of ['RS384', 'PS256', 'ES256'] as const) {
          const client = await createClient(t.dataSource, { authMethod: 'private_key_jwt', alg });
          const res = await start({
            client_id: client.clientId,
            client_assertion: await signAssertion(client, t.config.issuerBaseUrl),
            client_assertion_type: ASSERTION_TYPE,
            connection: 'email',
            email: uniqueEmail(),
            send: 'code',
          });
          expect({ alg, status: res.status }).toEqual({ alg, status: 200 });
        }
      });

      it('should refuse a replayed jti', async () => {
        const assertion = await signAssertion(jwtClient, t.config.issuerBaseUrl, { jti: randomUUID() });
        expect((await startWith(assertion)).status).toBe(200);
        const replay = await startWith(assertion);
        expect(replay.status).toBe(401);
        expect(replay.body.error).toBe('invalid_client');
      });

      // The start records the jti in the same Redis call as its limits, or before answering an error: the outcome must be
      // the same as recording it during authentication, which runs before validation.
      it('should refuse a replay even when it also fails validation, and count a first use that failed validation', async () => {
        const withBody = (assertion: string, email: string) =>
          start({
            client_id: jwtClient.clientId,
            client_assertion: assertion,
            client_assertion_type: ASSERTION_TYPE,
            connection: 'email',
            email,
            send: 'code',
          });
        const used = await signAssertion(jwtClient, t.config.issuerBaseUrl, { jti: randomUUID() });
        expect((await withBody(used, uniqueEmail())).status).toBe(200);
        const invalidReplay = await withBody(used, 'not-an-email');
        expect([invalidReplay.status, invalidReplay.body]).toEqual([
          401,
          { error: 'invalid_client', error_description: 'Client authentication failed.' },
        ]);

        const firstInvalid = await signAssertion(jwtClient, t.config.issuerBaseUrl, { jti: randomUUID() });
        expect((await withBody(firstInvalid, 'not-an-email')).status).toBe(400);
        const validReplay = await withBody(firstInvalid, uniqueEmail());
        expect([validReplay.status, validReplay.body.error]).toEqual([401, 'invalid_client']);
      });

      it.each([
        ['a wrong audience', { aud: 'https://evil.example.com/' }],
        ['an issuer other than the client', { iss: 'someone-else' }],
        ['a subject other than the client', { sub: 'someone-else' }],
        ['no exp', { omitExp: true }],
        ['an exp more than 5 minutes ahead', { expiresIn: 3600 }],
        ['an expired exp', { expiresIn: -60 }],
        ['an iat in the future', { iat: Math.floor(Date.now() / 1000) + 3600 }],
      ])('should refuse an assertion with %s', async (_label, claims) => {
        const res = await startWith(await signAssertion(jwtClient, t.config.issuerBaseUrl, claims));
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
      });

      it('should refuse an assertion signed by an unregistered key, or with HS256, or over 2048 bytes', async () => {
        const stranger = await createClient(t.dataSource, { authMethod: 'private_key_jwt' });
        const forged = await signAssertion({ ...stranger, clientId: jwtClient.clientId }, t.config.issuerBaseUrl);
        expect((await startWith(forged)).status).toBe(401);
        const [, payload] = forged.split('.');
        const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')}.${payload}.c2ln`;
        expect((await startWith(hs)).status).toBe(401);
        expect((await startWith(`${forged}${'A'.repeat(2048)}`)).status).toBe(401);
      });

      it('should not let an absolute-form request target choose the accepted audience (RFC 7523 §3)', async () => {
        const foreignAudience = 'https://other-as.example.net/passwordless/start';
        const body = JSON.stringify({
          client_id: jwtClient.clientId,
          client_assertion: await signAssertion(jwtClient, foreignAudience),
          client_assertion_type: ASSERTION_TYPE,
          connection: 'email',
          email: uniqueEmail(),
          send: 'code',
        });
        const raw = await rawHttp(
          Number(new URL(t.baseUrl).port),
          `POST ${foreignAudience} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        expect(raw).toMatch(/^HTTP\/1\.1 401/);
      });

      it('should refuse a secret from a private_key_jwt client', async () => {
        const res = await start({
          client_id: jwtClient.clientId,
          client_secret: 'guess',
          connection: 'email',
          email: uniqueEmail(),
        });
        expect(res.status).toBe(401);
      });
    });
  });

  describe('errors (Auth0 §2, verbatim)', () => {
    const rows: Array<[string, () => Record<string, unknown>, number, string, string]> = [
      [
        'no client_id',
        () => ({ connection: 'email', email: uniqueEmail() }),
        400,
        'bad.client_id',
        'Missing required property: client_id',
      ],
      [
        'no connection',
        () => withSecret(web, { email: uniqueEmail() }),
        400,
        'bad.connection',
        'Missing required property: connection',
      ],
      [
        'an unknown connection',
        () => withSecret(web, { connection: 'facebook', email: uniqueEmail() }),
        400,
        'bad.connection',
        'Connection does not exist',
      ],
      [
        'an invalid send',
        () => withSecret(web, { connection: 'email', email: uniqueEmail(), send: 'pigeon' }),
        400,
        'bad.send',
        'error in send - No enum match for: pigeon',
      ],
      [
        'a string authParams',
        () => withSecret(web, { connection: 'email', email: uniqueEmail(), authParams: 'scope=openid' }),
        400,
        'bad.authParams',
        'error in authParams - invalid type: string (expected object)',
      ],
      [
        'an unknown property',
        () => withSecret(web, { connection: 'email', email: uniqueEmail(), type: 'x' }),
        400,
        'bad.request',
        'the following properties are not allowed: type',
      ],
      [
        'no email',
        () => withSecret(web, { connection: 'email' }),
        400,
        'bad.email',
        'Missing required property: email',
      ],
      [
        'a malformed email',
        () => withSecret(web, { connection: 'email', email: 'not-an-email' }),
        400,
        'bad.email',
        'error in email - email format validation failed: not-an-email',
      ],
      [
        'no phone_number',
        () => withSecret(web, { connection: 'sms' }),
        400,
        'bad.phone_number',
        'Missing required property: phone_number',
      ],
      [
        'a phone_number without +',
        () => withSecret(web, { connection: 'sms', phone_number: '4155550123' }),
        400,
        'bad.phone_number',
        'String does not match pattern: ^\\+[0-9]{1,15}$',
      ],
      [
        'an unknown connection before a malformed email',
        () => withSecret(web, { connection: 'nope', email: 'bad' }),
        400,
        'bad.connection',
        'Connection does not exist',
      ],
      [
        'a client_assertion_type without an assertion',
        () => withSecret(web, { connection: 'email', email: uniqueEmail(), client_assertion_type: 'garbage' }),
        400,
        'invalid_request',
        'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      ],
      [
        'no credentials from a confidential client',
        () => ({ client_id: web.clientId, connection: 'email', email: uniqueEmail() }),
        403,
        'unauthorized_client',
        'Client authentication is required',
      ],
      [
        'a wrong secret',
        () => ({ client_id: web.clientId, client_secret: 'wrong', connection: 'email', email: uniqueEmail() }),
        401,
        'invalid_client',
        'Client authentication failed.',
      ],
      [
        'send=link on sms',
        () => withSecret(web, { connection: 'sms', phone_number: uniquePhone(), send: 'link' }),
        400,
        'bad.send',
        "error in send - Only 'code' is supported for SMS connections",
      ],
      [
        'a redirect_uri that is not a callback',
        () =>
          withSecret(web, {
            connection: 'email',
            email: uniqueEmail(),
            authParams: { redirect_uri: 'https://evil.example.com/' },
          }),
        400,
        'bad.authParams',
        'error in authParams - redirect_uri is not in the list of allowed callback URLs for this client',
      ],
    ];

    it.each(rows)(
      'should answer %s with the documented error and store nothing',
      async (_label, body, status, error, description) => {
        const count = () =>
          t.dataSource.query('SELECT count(*)::int AS n FROM verifications WHERE client_id = $1', [web.clientId]);
        const before = await count();
        const res = await start(body());
        expect({ status: res.status, body: res.body }).toEqual({
          status,
          body: { error, error_description: description },
        });
        expect(await count()).toEqual(before);
      },
    );

    it('should answer Connection is disabled when the client does not have the connection', async () => {
      const emailOnly = await createClient(t.dataSource, { connections: ['email'] });
      const res = await start(withSecret(emailOnly, { connection: 'sms', phone_number: uniquePhone() }));
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { error: 'bad.connection', error_description: 'Connection is disabled' },
      });
    });

    it('should refuse a client without the passwordless OTP grant', async () => {
      const noGrant = await createClient(t.dataSource, { grantTypes: ['authorization_code'] });
      const res = await start(withSecret(noGrant, { connection: 'email', email: uniqueEmail() }));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: 'unauthorized_client',
        error_description: `Grant type '${OTP_GRANT}' not allowed for the client.`,
      });
    });

    it('should refuse a phone number that matches the pattern but does not exist', async () => {
      const res = await start(withSecret(web, { connection: 'sms', phone_number: '+1000' }));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('bad.phone_number');
    });
  });

  describe('malformed input never produces a 5xx', () => {
    const rawCases: Array<[string, string, string]> = [
      ['broken JSON', '{"client_id": ', 'application/json'],
      ['a JSON array', '[1,2,3]', 'application/json'],
      ['a JSON string', '"hello"', 'application/json'],
      ['null', 'null', 'application/json'],
      ['an XML body', '<a/>', 'application/xml'],
      ['text that is not JSON', 'client_id=abc', 'text/plain'],
      [
        'a NUL byte in client_id',
        '{"client_id":"a\\u0000b","connection":"email","email":"a@b.co"}',
        'application/json',
      ],
      [
        'a NUL byte in connection',
        '{"client_id":"x","connection":"em\\u0000ail","email":"a@b.co"}',
        'application/json',
      ],
      [
        'a raw NUL character in a JSON string',
        '{"client_id":"a\u0000b","connection":"email","email":"a@b.co"}',
        'application/json',
      ],
      [
        'a NUL byte in a form authParams value',
        'client_id=x&connection=email&email=a%40b.co&authParams%5Bstate%5D=%00',
        'application/x-www-form-urlencoded',
      ],
    ];

    it('should refuse a __proto__ key from an authenticated client (JSON and form)', async () => {
      const json = JSON.stringify(withSecret(web, { connection: 'email', email: uniqueEmail() })).replace(
        '{',
        '{"__proto__":{"admin":true},',
      );
      expect((await t.post('/passwordless/start', json)).status).toBe(400);
      const escaped = JSON.stringify(withSecret(web, { connection: 'email', email: uniqueEmail() })).replace(
        '{',
        '{"\\u005f_proto__":{"admin":true},',
      );
      expect((await t.post('/passwordless/start', escaped)).status).toBe(400);
      const form = `${new URLSearchParams({ client_id: web.clientId, client_secret: web.secret!, connection: 'email', email: uniqueEmail() }).toString()}&__proto__%5Badmin%5D=1`;
      expect(
        (await t.post('/passwordless/start', form, { 'content-type': 'application/x-www-form-urlencoded' })).status,
      ).toBe(400);
    });

    it('should refuse a NUL byte in an authParams value and in Basic credentials with a 4xx', async () => {
      const res = await start(
        withSecret(web, { connection: 'email', email: uniqueEmail(), authParams: { state: 'a\u0000b' } }),
      );
      expect(res.status).toBe(400);
      const basic = Buffer.from(`a\u0000b:x`).toString('base64');
      const viaBasic = await start({ connection: 'email', email: uniqueEmail() }, { authorization: `Basic ${basic}` });
      expect(viaBasic.status).toBe(401);
    });

    it('should ignore an over-long or malformed language instead of failing', async () => {
      const long = `en-${'abcdefgh-'.repeat(5)}x`;
      for (const headers of [{ 'x-request-language': long }, { 'accept-language': long }] as Array<
        Record<string, string>
      >) {
        const res = await start(withSecret(web, { connection: 'sms', phone_number: uniquePhone() }), headers);
        expect({ status: res.status, language: res.body.request_language }).toEqual({ status: 200, language: null });
      }
    });

    it.each(rawCases)('should answer %s with a 4xx error body', async (_label, raw, type) => {
      const res = await t.post('/passwordless/start', raw, { 'content-type': type });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    });

    const bodies: Array<[string, Record<string, unknown>]> = [
      ['an array client_id', { client_id: ['a', 'b'], connection: 'email', email: uniqueEmail() }],
      ['a numeric client_id', { client_id: 42, connection: 'email', email: uniqueEmail() }],
      ['an object connection', { connection: { $ne: null }, email: uniqueEmail() }],
      ['an array email', { connection: 'email', email: ['a@b.co', 'c@d.co'] }],
      ['a null byte in the email', { connection: 'email', email: 'a\u0000b@example.com' }],
      ['a nested authParams value', { connection: 'email', email: uniqueEmail(), authParams: { scope: { $gt: '' } } }],
      ['an array authParams', { connection: 'email', email: uniqueEmail(), authParams: ['scope'] }],
      ['a null connection', { connection: null, email: uniqueEmail() }],
      ['a boolean send', { connection: 'email', email: uniqueEmail(), send: true }],
      ['unicode noise', { connection: '💥\u202e', email: 'ünï@exämple.com' }],
    ];

    it.each(bodies)('should answer %s with a 400 error body', async (_label, body) => {
      const res = await start({ client_id: web.clientId, client_secret: web.secret, ...body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    });

    it('should answer a 1 MB body with 413', async () => {
      const res = await start(
        withSecret(web, { connection: 'email', email: uniqueEmail(), authParams: { state: 'x'.repeat(1024 * 1024) } }),
      );
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'Request body is too large.' });
    });

    it('should answer an unsupported content type with 415', async () => {
      const res = await t.post('/passwordless/start', '<a/>', { 'content-type': 'application/xml' });
      expect(res.status).toBe(415);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'Unsupported content type. Use application/json or application/x-www-form-urlencoded.',
      });
    });

    it('should answer %00 in a query string with a 400, on any route', async () => {
      const res = await fetch(`${t.baseUrl}/passwordless/verify_redirect?client_id=%00&connection=email`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'Malformed query string.' });
    });

    it('should answer an unknown route with a JSON 404', async () => {
      const res = await t.post('/passwordless/nope', {});
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'not_found', error_description: 'Not Found' });
    });
  });

  it('GET /health should report Postgres and Redis', async () => {
    const res = await fetch(`${t.baseUrl}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { delivery: { oldestUndeliveredMs: object; shedding: string[] } };
    expect(body).toMatchObject({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
    // Informative: how far delivery is behind per channel (ms, or null when nothing waits), and what is shed.
    expect(Object.keys(body.delivery.oldestUndeliveredMs)).toEqual(['email', 'sms']);
    expect(body.delivery.shedding).toEqual([]);
  });
});
