import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import type { PublicJwk } from './client.entity';
import {
  importVerificationKey,
  MalformedJwsError,
  parseCompactJws,
  signatureMatches,
  type JwsAlgorithm,
} from './jws-compact';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const jwkOf = async (key: KeyObject, extra: Partial<PublicJwk> = {}): Promise<PublicJwk> => ({
  ...((await exportJWK(key)) as PublicJwk),
  ...extra,
});
const signed = (alg: string, privateKey: KeyObject, claims: Record<string, unknown> = { sub: 'x' }) =>
  new SignJWT(claims).setProtectedHeader({ alg }).sign(privateKey);

/** Parses and verifies as the client-assertion verifier does. */
async function verifies(token: string, publicKey: KeyObject, alg: JwsAlgorithm): Promise<boolean> {
  const key = importVerificationKey(await jwkOf(publicKey), alg);
  if (!key) throw new Error('key not importable');
  return signatureMatches(parseCompactJws(token), key);
}

describe('compact JWS verification', () => {
  it.each([
    ['RS256', rsa],
    ['RS384', rsa],
    ['PS256', rsa],
    ['ES256', p256],
  ] as const)('should verify %s signed by jose, and only with the signing key', async (alg, pair) => {
    const token = await signed(alg, pair.privateKey, { iss: 'c', jti: 'j' });
    expect(await verifies(token, pair.publicKey, alg)).toBe(true);
    expect(parseCompactJws(token).payload).toEqual({ iss: 'c', jti: 'j' });
    const stranger = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : otherRsa;
    expect(await verifies(token, stranger.publicKey, alg)).toBe(false);
  });

  it('should refuse a token whose payload or header was changed after signing', async () => {
    const [header, payload, signature] = (await signed('RS256', rsa.privateKey, { sub: 'alice' })).split('.');
    const otherPayload = Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url');
    expect(await verifies(`${header}.${otherPayload}.${signature}`, rsa.publicKey, 'RS256')).toBe(false);
    const otherHeader = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'x' })).toString('base64url');
    expect(await verifies(`${otherHeader}.${payload}.${signature}`, rsa.publicKey, 'RS256')).toBe(false);
    expect(await verifies(`${header}.${payload}.${signature}`, rsa.publicKey, 'RS256')).toBe(true);
  });

  it.each([
    [0, false],
    [20, false],
    [32, true],
  ])(
    'should accept PS256 only with a salt as long as the hash (RFC 7518 §3.5): salt %i → %s',
    async (saltLength, accepted) => {
      const signingInput = `${Buffer.from('{"alg":"PS256"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}`;
      const signature = sign('sha256', Buffer.from(signingInput), {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      });
      expect(await verifies(`${signingInput}.${signature.toString('base64url')}`, rsa.publicKey, 'PS256')).toBe(
        accepted,
      );
    },
  );

  it('should refuse an ES256 signature in DER rather than R||S (RFC 7518 §3.4)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url');
    const payload = Buffer.from('{"sub":"x"}').toString('base64url');
    const der = sign('sha256', Buffer.from(`${header}.${payload}`), p256.privateKey).toString('base64url');
    expect(await verifies(`${header}.${payload}.${der}`, p256.publicKey, 'ES256')).toBe(false);
  });

  const part = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  it.each([
    ['two parts', `${part({ alg: 'RS256' })}.${part({})}`],
    ['four parts', `${part({ alg: 'RS256' })}.${part({})}.c2ln.c2ln`],
    ['an empty signature', `${part({ alg: 'RS256' })}.${part({})}.`],
    ['characters outside base64url', `${part({ alg: 'RS256' })}.${part({})}.c2ln+/=`],
    ['a segment of 4n+1 characters (no base64 has that length)', `${part({ alg: 'RS256' })}.${part({})}.c2lnA`],
    ['an alg that is an object', `${part({ alg: { toString: 1 } })}.${part({})}.c2ln`],
    ['a header that is not JSON', `${part('{alg')}.${part({})}.c2ln`],
    ['a header that is an array', `${part(['RS256'])}.${part({})}.c2ln`],
    ['a payload that is not an object', `${part({ alg: 'RS256' })}.${part('"x"')}.c2ln`],
    [
      'a payload that is not UTF-8',
      `${part({ alg: 'RS256' })}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.c2ln`,
    ],
    ['alg none', `${part({ alg: 'none' })}.${part({})}.c2ln`],
    ['alg HS256', `${part({ alg: 'HS256' })}.${part({})}.c2ln`],
    ['an inherited property as alg', `${part({ alg: 'toString' })}.${part({})}.c2ln`],
    ['a crit header (RFC 7515 §4.1.11)', `${part({ alg: 'RS256', crit: ['b64'], b64: false })}.${part({})}.c2ln`],
    ['a kid that is not a string', `${part({ alg: 'RS256', kid: 1 })}.${part({})}.c2ln`],
  ])('should not parse a token with %s', (_label, token) => {
    expect(() => parseCompactJws(token)).toThrow(MalformedJwsError);
  });

  it('should refuse a validly signed token with an unencoded payload (RFC 7797), which it would misread', () => {
    const signingInput = `${Buffer.from(JSON.stringify({ alg: 'RS256', b64: false, crit: ['b64'] })).toString('base64url')}.abc`;
    const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), rsa.privateKey).toString('base64url')}`;
    expect(() => parseCompactJws(token)).toThrow('crit header not supported');
  });

  it.each([
    [
      'an RSA key under 2048 bits (RFC 7518 §3.3)',
      () => jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
      'RS256',
    ],
    ['an EC key for RS256', () => jwkOf(p256.publicKey), 'RS256'],
    ['an RSA key for ES256', () => jwkOf(rsa.publicKey), 'ES256'],
    ['a P-384 key for ES256', () => jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), 'ES256'],
    ['key_ops without verify (RFC 7517 §4.3)', () => jwkOf(rsa.publicKey, { key_ops: ['encrypt'] }), 'RS256'],
    ['key_ops that is not an array', () => jwkOf(rsa.publicKey, { key_ops: 'verify' }), 'RS256'],
    ['a symmetric key', () => Promise.resolve({ kty: 'oct', k: 'c2VjcmV0' }), 'RS256'],
    ['a malformed JWK', () => Promise.resolve({ kty: 'RSA', n: 'x' }), 'RS256'],
  ] as const)('should not use %s', async (_label, jwk, alg) => {
    expect(importVerificationKey(await jwk(), alg)).toBeUndefined();
  });

  it('should verify with a JWK registered with its private members, as a public key', async () => {
    const key = importVerificationKey((await exportJWK(rsa.privateKey)) as PublicJwk, 'RS256');
    expect(key?.type).toBe('public');
    expect(signatureMatches(parseCompactJws(await signed('RS256', rsa.privateKey)), key!)).toBe(true);
  });
});
