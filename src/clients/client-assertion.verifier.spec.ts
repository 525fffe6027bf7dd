import { generateKeyPairSync, sign } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import type { AssertionReplayStore } from './assertion-replay.store';
import { ClientAssertionVerifier } from './client-assertion.verifier';
import type { ClientEntity } from './client.entity';

const ISSUER = 'https://tenant.example.com/';
const NOW = 1_800_000_000;
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The replay store's contract (SET NX) without Redis, which the e2e tests exercise. */
class MemoryReplayStore {
  readonly seen = new Set<string>();
  markUsed(clientId: string, jti: string): Promise<boolean> {
    const key = `${clientId}:${jti}`;
    const firstUse = !this.seen.has(key);
    this.seen.add(key);
    return Promise.resolve(firstUse);
  }
}

describe(ClientAssertionVerifier.name, () => {
  let client: ClientEntity;
  let verifier: ClientAssertionVerifier;

  beforeAll(async () => {
    client = { clientId: 'client-1', jwks: { keys: [await exportJWK(publicKey)] } } as ClientEntity;
  });
  beforeEach(() => {
    const clock = { now: () => new Date(NOW * 1000) };
    verifier = new ClientAssertionVerifier({ issuerBaseUrl: ISSUER } as AppConfig, new MemoryReplayStore() as unknown as AssertionReplayStore, clock);
  });

  const assertion = (claims: Record<string, unknown>) =>
    new SignJWT({ iss: 'client-1', sub: 'client-1', aud: ISSUER, exp: NOW + 60, iat: NOW, jti: 'jti-1', ...claims }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
  const outcome = async (claims: Record<string, unknown>) => {
    try {
      await verifier.verify(client, await assertion(claims), '/passwordless/start');
      return 'accepted';
    } catch (err) {
      return err instanceof ApiError ? `${err.status} ${err.error}` : String(err);
    }
  };

  it.each([
    ['the issuer URL as audience', {}],
    ['the endpoint URL as audience', { aud: `${ISSUER}passwordless/start` }],
    ['an audience array holding the issuer', { aud: ['https://elsewhere.example.com/', ISSUER] }],
    ['an nbf within the clock tolerance', { nbf: NOW + 10 }],
    ['an exp just inside the clock tolerance', { exp: NOW - 9 }],
    ['no iat', { iat: undefined }],
  ])('should accept %s', async (_label, claims) => {
    expect(await outcome(claims)).toBe('accepted');
  });

  it.each([
    ['no iss', { iss: undefined }],
    ['no aud', { aud: undefined }],
    ['no jti', { jti: undefined }],
    ['an empty jti', { jti: '' }],
    ['a jti over 64 characters', { jti: 'j'.repeat(65) }],
    ['an audience array without this server', { aud: ['https://elsewhere.example.com/'] }],
    ['a numeric iss', { iss: 1 }],
    ['an exp that is a string', { exp: String(NOW + 60) }],
    ['an nbf in the future', { nbf: NOW + 60 }],
    ['an nbf that is not a number', { nbf: 'soon' }],
    ['an iat that is not a number', { iat: 'now' }],
    ['an exp at the end of the clock tolerance', { exp: NOW - 10 }],
    ['an exp more than 5 minutes ahead', { exp: NOW + 311 }],
  ])('should refuse %s with 401 invalid_client', async (_label, claims) => {
    expect(await outcome(claims)).toBe('401 invalid_client');
  });

  it('should refuse an exp of 1e400, which parses to Infinity (jose refuses to sign it, so it is signed here)', async () => {
    const claims = `{"iss":"client-1","sub":"client-1","aud":"${ISSUER}","jti":"jti-inf","exp":1e400}`;
    const signingInput = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(claims).toString('base64url')}`;
    const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
    await expect(verifier.verify(client, token, '/passwordless/start')).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await outcome({ jti: 'jti-inf' })).toBe('accepted'); // the same claims with a finite exp pass
  });

  it('should accept a jti once', async () => {
    expect(await outcome({ jti: 'once' })).toBe('accepted');
    expect(await outcome({ jti: 'once' })).toBe('401 invalid_client');
  });
});
