import { constants, sign, type KeyObject } from 'node:crypto';
import { testKeyPair } from '../../test/utils/keys';
import { exportJWK, SignJWT } from 'jose';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import type { AssertionReplayStore } from './assertion-replay.store';
import { ClientAssertionVerifier } from './client-assertion.verifier';
import type { ClientEntity, PublicJwk } from './client.entity';

const ISSUER = 'https://tenant.example.com/';
const NOW = 1_800_000_000;
const registered = testKeyPair('rsa', { modulusLength: 2048 });
const stranger = testKeyPair('rsa', { modulusLength: 2048 });

/** The replay store's contract (SET NX with a TTL) without Redis, which the e2e tests exercise. */
class MemoryReplayStore {
  readonly ttls = new Map<string, number>();
  markUsed(clientId: string, jti: string, ttlMs: number): Promise<boolean> {
    const key = `${clientId}:${jti}`;
    const firstUse = !this.ttls.has(key);
    if (firstUse) this.ttls.set(key, ttlMs);
    return Promise.resolve(firstUse);
  }
}

describe(ClientAssertionVerifier.name, () => {
  let registeredJwk: PublicJwk;
  let client: ClientEntity;
  let replay: MemoryReplayStore;
  let verifier: ClientAssertionVerifier;

  beforeAll(async () => {
    registeredJwk = (await exportJWK(registered.publicKey)) as PublicJwk;
  });
  beforeEach(() => {
    client = { clientId: 'client-1', jwks: { keys: [registeredJwk] } } as ClientEntity;
    replay = new MemoryReplayStore();
    const clock = { now: () => new Date(NOW * 1000) };
    verifier = new ClientAssertionVerifier(
      { issuerBaseUrl: ISSUER } as AppConfig,
      replay as unknown as AssertionReplayStore,
      clock,
    );
  });

  const assertion = (
    claims: Record<string, unknown>,
    key: KeyObject = registered.privateKey,
    header: Record<string, unknown> = {},
  ) =>
    new SignJWT({ iss: 'client-1', sub: 'client-1', aud: ISSUER, exp: NOW + 60, iat: NOW, jti: 'jti-1', ...claims })
      .setProtectedHeader({ alg: 'RS256', ...header })
      .sign(key);
  /** 'accepted', or the status and the logged reason of the refusal (the body is the same for every 401). */
  const outcomeOf = async (token: string) => {
    try {
      await verifier.verify(client, token, '/passwordless/start');
      return 'accepted';
    } catch (err) {
      return err instanceof ApiError ? `${err.status} ${err.error}: ${err.detail}` : `unexpected ${String(err)}`;
    }
  };
  const outcome = async (claims: Record<string, unknown>) => outcomeOf(await assertion(claims));

  it.each([
    ['the issuer URL as audience', {}],
    ['the endpoint URL as audience', { aud: `${ISSUER}passwordless/start` }],
    ['an audience array holding the issuer', { aud: ['https://elsewhere.example.com/', ISSUER] }],
    ['an nbf within the clock tolerance', { nbf: NOW + 10 }],
    ['an exp just inside the clock tolerance', { exp: NOW - 9 }],
    ['an exp 5 minutes ahead plus the clock tolerance', { exp: NOW + 310 }],
    ['an iat within the clock tolerance', { iat: NOW + 10 }],
    ['no iat', { iat: undefined }],
  ])('should accept %s', async (_label, claims) => {
    expect(await outcome(claims)).toBe('accepted');
  });

  it.each([
    ['no iss', { iss: undefined }, 'assertion has no iss claim'],
    ['no sub', { sub: undefined }, 'assertion has no sub claim'],
    ['no aud', { aud: undefined }, 'assertion has no aud claim'],
    ['no exp', { exp: undefined }, 'assertion has no exp claim'],
    ['no jti', { jti: undefined }, 'assertion has no jti claim'],
    ['another issuer', { iss: 'client-2' }, 'assertion iss is not the client_id'],
    ['a numeric iss', { iss: 1 }, 'assertion iss is not the client_id'],
    ['another subject', { sub: 'client-2' }, 'assertion sub is not the client_id'],
    ['an audience elsewhere', { aud: 'https://elsewhere.example.com/' }, 'assertion aud is not this server'],
    [
      'an audience array without this server',
      { aud: ['https://elsewhere.example.com/'] },
      'assertion aud is not this server',
    ],
    ['an exp that is a string', { exp: String(NOW + 60) }, 'assertion exp, nbf or iat is not a NumericDate'],
    ['an nbf that is not a number', { nbf: 'soon' }, 'assertion exp, nbf or iat is not a NumericDate'],
    ['an iat that is not a number', { iat: 'now' }, 'assertion exp, nbf or iat is not a NumericDate'],
    ['an exp at the end of the clock tolerance', { exp: NOW - 10 }, 'assertion expired'],
    ['an exp more than 5 minutes ahead', { exp: NOW + 311 }, 'assertion lifetime exceeds 5 minutes'],
    ['an nbf in the future', { nbf: NOW + 11 }, 'assertion not valid yet (nbf)'],
    ['an iat in the future', { iat: NOW + 11 }, 'assertion iat is in the future'],
    ['an empty jti', { jti: '' }, 'jti missing or too long'],
    ['a jti over 64 characters', { jti: 'j'.repeat(65) }, 'jti missing or too long'],
  ])('should refuse %s with 401 invalid_client', async (_label, claims, reason) => {
    expect(await outcome(claims)).toBe(`401 invalid_client: ${reason}`);
  });

  it('should check the signature before any claim', async () => {
    const badClaimsFromAStranger = await assertion({ iss: 'someone', exp: NOW - 3600 }, stranger.privateKey);
    expect(await outcomeOf(badClaimsFromAStranger)).toBe(
      '401 invalid_client: signature did not verify with any registered key',
    );
  });

  it('should try only the registered keys that fit the header (kid, alg, use)', async () => {
    const other = (await exportJWK(stranger.publicKey)) as PublicJwk;
    client.jwks = {
      keys: [
        { ...other, kid: 'b' },
        { ...registeredJwk, kid: 'a' },
      ],
    };
    expect(await outcomeOf(await assertion({ jti: 'no-kid' }))).toBe('accepted');
    expect(await outcomeOf(await assertion({ jti: 'kid-a' }, registered.privateKey, { kid: 'a' }))).toBe('accepted');
    expect(await outcomeOf(await assertion({ jti: 'kid-b' }, registered.privateKey, { kid: 'b' }))).toMatch(
      /^401 .*signature did not verify/,
    );
    for (const restricted of [{ alg: 'PS256' }, { use: 'enc' }]) {
      client.jwks = { keys: [{ ...registeredJwk, ...restricted }] };
      expect(await outcomeOf(await assertion({ jti: `restricted-${restricted.alg ?? restricted.use}` }))).toMatch(
        /^401 .*signature did not verify/,
      );
    }
  });

  it('should answer 401, never a 500, for a crafted header or a broken registered key set', async () => {
    const payload = Buffer.from('{}').toString('base64url');
    const objectAlg = `${Buffer.from('{"alg":{"toString":1}}').toString('base64url')}.${payload}.c2ln`;
    expect(await outcomeOf(objectAlg)).toMatch(/^401 invalid_client: assertion: JWS "alg" .* invalid$/);
    client.jwks = { keys: [null, 'x', registeredJwk] } as unknown as ClientEntity['jwks'];
    expect(await outcomeOf(await assertion({}))).toBe('accepted');
    client.jwks = { keys: 'x' } as unknown as ClientEntity['jwks'];
    expect(await outcomeOf(await assertion({ jti: 'jti-2' }))).toMatch(/^401 .*signature did not verify/);
  });

  it('should refuse an exp of 1e400, which parses to Infinity (jose refuses to sign it, so it is signed here)', async () => {
    const claims = `{"iss":"client-1","sub":"client-1","aud":"${ISSUER}","jti":"jti-inf","exp":1e400}`;
    const signingInput = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(claims).toString('base64url')}`;
    const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), registered.privateKey).toString('base64url')}`;
    expect(await outcomeOf(token)).toBe('401 invalid_client: assertion exp, nbf or iat is not a NumericDate');
    expect(await outcome({ jti: 'jti-inf' })).toBe('accepted'); // the same claims with a finite exp pass
  });

  it('should accept a jti once, remembered until the assertion expires (plus the clock tolerance)', async () => {
    expect(await outcome({ jti: 'once', exp: NOW + 120 })).toBe('accepted');
    expect(replay.ttls.get('client-1:once')).toBe(130_000);
    expect(await outcome({ jti: 'once', exp: NOW + 120 })).toBe('401 invalid_client: assertion jti replayed');
  });
  describe('signatures and keys', () => {
    const p256 = testKeyPair('ec', { namedCurve: 'P-256' });
    const jwkOf = async (key: KeyObject, extra: Partial<PublicJwk> = {}) => ({
      ...((await exportJWK(key)) as PublicJwk),
      ...extra,
    });
    const part = (value: unknown) =>
      Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const claims = { iss: 'client-1', sub: 'client-1', aud: ISSUER, exp: NOW + 60 };
    let jti = 0;
    /** A token signed by hand, for what jose would refuse to sign. */
    const handSigned = (header: Record<string, unknown>, sig: (signingInput: Buffer) => Buffer) => {
      const signingInput = `${part(header)}.${part({ ...claims, jti: `hand-${++jti}` })}`;
      return `${signingInput}.${sig(Buffer.from(signingInput)).toString('base64url')}`;
    };
    const REFUSED = '401 invalid_client: signature did not verify with any registered key';

    it.each([
      ['RS256', registered, stranger],
      ['RS384', registered, stranger],
      ['PS256', registered, stranger],
      ['ES256', p256, testKeyPair('ec', { namedCurve: 'P-256' })],
    ] as const)('should verify %s, and only with the registered key', async (alg, pair, other) => {
      client.jwks = { keys: [await jwkOf(pair.publicKey)] };
      expect(await outcomeOf(await assertion({ jti: `${alg}-1` }, pair.privateKey, { alg }))).toBe('accepted');
      expect(await outcomeOf(await assertion({ jti: `${alg}-2` }, other.privateKey, { alg }))).toBe(REFUSED);
    });

    it('should refuse a token whose payload or header was changed after signing', async () => {
      const [header, payload, signature] = (await assertion({ jti: 'tampered' })).split('.');
      expect(await outcomeOf(`${header}.${part({ ...claims, jti: 'other' })}.${signature}`)).toBe(REFUSED);
      expect(await outcomeOf(`${part({ alg: 'RS256', kid: 'x' })}.${payload}.${signature}`)).toBe(REFUSED);
      expect(await outcomeOf(`${header}.${payload}.${signature}`)).toBe('accepted');
    });

    it.each([
      [0, REFUSED],
      [20, REFUSED],
      [32, 'accepted'],
    ])(
      'should accept PS256 only with a salt as long as the hash (RFC 7518 §3.5): salt %i',
      async (saltLength, result) => {
        const token = handSigned({ alg: 'PS256' }, (input) =>
          sign('sha256', input, { key: registered.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }),
        );
        expect(await outcomeOf(token)).toBe(result);
      },
    );

    it('should refuse an ES256 signature in DER rather than R||S (RFC 7518 §3.4)', async () => {
      client.jwks = { keys: [await jwkOf(p256.publicKey)] };
      expect(await outcomeOf(handSigned({ alg: 'ES256' }, (input) => sign('sha256', input, p256.privateKey)))).toBe(
        REFUSED,
      );
    });

    it.each([
      ['two parts', `${part({ alg: 'RS256' })}.${part(claims)}`],
      ['four parts', `${part({ alg: 'RS256' })}.${part(claims)}.c2ln.c2ln`],
      ['characters outside base64url', `${part({ alg: 'RS256' })}.${part(claims)}.c2ln+/=`],
      ['a segment of 4n+1 characters (no base64 has that length)', `${part({ alg: 'RS256' })}.${part(claims)}.c2lnA`],
      ['a header that is not JSON', `${part('{alg')}.${part(claims)}.c2ln`],
      ['a header that is an array', `${part(['RS256'])}.${part(claims)}.c2ln`],
      ['alg none', `${part({ alg: 'none' })}.${part(claims)}.`],
      ['alg HS256', `${part({ alg: 'HS256' })}.${part(claims)}.c2ln`],
      ['an inherited property as alg', `${part({ alg: 'toString' })}.${part(claims)}.c2ln`],
      [
        'an unknown crit header (RFC 7515 §4.1.11)',
        `${part({ alg: 'RS256', crit: ['x'], x: 1 })}.${part(claims)}.c2ln`,
      ],
    ])('should refuse a token with %s as malformed', async (_label, token) => {
      expect(await outcomeOf(token)).toMatch(/^401 invalid_client: assertion: /);
    });

    it.each([
      ['a payload that is not an object', '"x"'],
      ['a payload that is not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')],
    ])('should refuse a validly signed token with %s', async (_label, payload) => {
      const signingInput = `${part({ alg: 'RS256' })}.${Buffer.from(payload, 'latin1').toString('base64url')}`;
      const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), registered.privateKey).toString('base64url')}`;
      expect(await outcomeOf(token)).toMatch(/^401 invalid_client: assertion: /);
    });

    it('should refuse a validly signed token with an unencoded payload (RFC 7797), which it would misread', async () => {
      const token = handSigned({ alg: 'RS256', b64: false, crit: ['b64'] }, (input) =>
        sign('sha256', input, registered.privateKey),
      );
      expect(await outcomeOf(token)).toMatch(/^401 invalid_client: assertion: /);
    });

    it.each([
      ['an RSA key under 2048 bits (RFC 7518 §3.3)', 'RS256', testKeyPair('rsa', { modulusLength: 1024 })],
      ['a P-384 key for ES256', 'ES256', testKeyPair('ec', { namedCurve: 'P-384' })],
    ] as const)('should not use %s', async (_label, alg, pair) => {
      client.jwks = { keys: [await jwkOf(pair.publicKey)] };
      const token = handSigned({ alg }, (input) =>
        sign(alg === 'ES256' ? 'sha384' : 'sha256', input, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      expect(await outcomeOf(token)).toBe(REFUSED);
    });

    it.each([
      ['an EC key for RS256', () => jwkOf(p256.publicKey)],
      ['key_ops without verify (RFC 7517 §4.3)', () => jwkOf(registered.publicKey, { key_ops: ['encrypt'] })],
      ['key_ops that is not an array', () => jwkOf(registered.publicKey, { key_ops: 'verify' })],
      ['a symmetric key', () => Promise.resolve({ kty: 'oct', k: 'c2VjcmV0' })],
      ['a malformed JWK', () => Promise.resolve({ kty: 'RSA', n: 'x', e: 'AQAB' })],
    ])('should not use %s for RS256, and still use a usable key beside it', async (_label, jwk) => {
      client.jwks = { keys: [await jwk()] };
      expect(await outcomeOf(await assertion({ jti: 'alone' }))).toBe(REFUSED);
      client.jwks = { keys: [await jwk(), registeredJwk] };
      expect(await outcomeOf(await assertion({ jti: 'beside' }))).toBe('accepted');
    });

    it('should verify with a JWK registered with its private members, as a public key', async () => {
      client.jwks = { keys: [(await exportJWK(registered.privateKey)) as PublicJwk] };
      expect(await outcomeOf(await assertion({ jti: 'private-jwk' }))).toBe('accepted');
    });

    it('should import a registered key once, not on every assertion', async () => {
      // The module object itself: the verifier reads its members at call time.
      const importKey = jest.spyOn(jest.requireActual<typeof import('node:crypto')>('node:crypto'), 'createPublicKey');
      try {
        expect(await outcomeOf(await assertion({ jti: 'cached-1' }))).toBe('accepted');
        expect(await outcomeOf(await assertion({ jti: 'cached-2' }))).toBe('accepted');
        expect(importKey).toHaveBeenCalledTimes(1);
      } finally {
        importKey.mockRestore();
      }
    });
  });
});
