import { ConfigError, loadConfig } from './app-config';

describe(loadConfig.name, () => {
  it('should read signing keys given as PEM entries and private JWKs, and the token settings', () => {
    const config = loadConfig({
      SIGNING_KEYS: JSON.stringify([{ kid: 'a', pem: '-----BEGIN PRIVATE KEY-----' }, { kty: 'RSA', kid: 'b', n: 'x', e: 'AQAB', d: 'y' }]),
      SIGNING_KEY_ACTIVE_KID: 'b',
      TOKEN_AUDIENCES: 'https://api.example.com/, urn:other',
    });
    expect(config.tokens).toEqual({
      signingKeys: [{ kid: 'a', pem: '-----BEGIN PRIVATE KEY-----' }, { kid: 'b', jwk: { kty: 'RSA', kid: 'b', n: 'x', e: 'AQAB', d: 'y' } }],
      activeKid: 'b',
      accessTokenTtl: 86400,
      idTokenTtl: 36000,
      audiences: ['https://api.example.com/', 'urn:other'],
    });
  });

  it('should default to no configured keys (a development key is generated)', () => {
    expect(loadConfig({}).tokens.signingKeys).toEqual([]);
  });

  it.each([
    [{ SIGNING_KEYS: 'not json' }, 'SIGNING_KEYS'],
    [{ SIGNING_KEYS: '{"kid":"a"}' }, 'SIGNING_KEYS'],
    [{ SIGNING_KEYS: '[{"kid":"a"}]' }, 'SIGNING_KEYS'],
    [{ SIGNING_KEYS: '[{"kid":1,"pem":"x"}]' }, 'SIGNING_KEYS'],
    [{ SIGNING_KEYS: '[{"kid":"a","pem":"x"}]', SIGNING_KEY_ACTIVE_KID: 'b' }, 'SIGNING_KEY_ACTIVE_KID'],
    [{ ACCESS_TOKEN_TTL_SECONDS: '10' }, 'ACCESS_TOKEN_TTL_SECONDS'],
  ])('should refuse %j naming the key, not the value', (env, key) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(key);
  });
});
