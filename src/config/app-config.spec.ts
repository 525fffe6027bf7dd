import { ConfigError, loadConfig } from './app-config';

describe(loadConfig.name, () => {
  it('should give working developer defaults with a trailing-slash issuer', () => {
    const config = loadConfig({ ISSUER_BASE_URL: 'https://auth.example.com' });
    expect(config.http.port).toBe(3000);
    expect(config.issuerBaseUrl).toBe('https://auth.example.com/');
    expect(config.secrets.usingDevelopmentDefaults).toBe(true);
    expect(config.secrets.encryptionKey).toHaveLength(32);
  });

  it('should name every bad key but never print its value', () => {
    const secretLookingValue = 'postgres-password-in-the-url';
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: secretLookingValue, CODE_ENCRYPTION_KEY: 'short' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('CODE_ENCRYPTION_KEY');
    expect(message).not.toContain(secretLookingValue);
    expect(message).not.toContain('eighty');
  });

  it("should default refresh tokens to Auth0's lifetimes and refuse an idle lifetime above the absolute one", () => {
    expect(loadConfig({}).refreshTokens).toEqual({ lifetime: 2_592_000, idleLifetime: 1_296_000, reuseInterval: 0 });
    expect(() =>
      loadConfig({ REFRESH_TOKEN_LIFETIME_SECONDS: '3600', REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: '7200' }),
    ).toThrow('REFRESH_TOKEN_IDLE_LIFETIME_SECONDS (must not exceed REFRESH_TOKEN_LIFETIME_SECONDS)');
    expect(() => loadConfig({ REFRESH_TOKEN_REUSE_INTERVAL_SECONDS: '-1' })).toThrow(
      'REFRESH_TOKEN_REUSE_INTERVAL_SECONDS',
    );
  });

  it('should say what each bad key expects and what kind of value it got', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow('PORT: an integer 1-65535, got a non-number');
    expect(() => loadConfig({ PORT: '70000' })).toThrow('PORT: an integer 1-65535, got 70000');
    expect(() => loadConfig({ LOG_LEVEL: 'info' })).toThrow(
      'LOG_LEVEL: one of error, warn, log, debug, verbose, got another value (4 characters)',
    );
    expect(() => loadConfig({ REDIS_URL: 'http://redis:6379' })).toThrow('REDIS_URL: a redis:// or rediss:// URL');
  });

  it('should default the issuer to the configured PORT', () => {
    expect(loadConfig({ PORT: '4000' }).issuerBaseUrl).toBe('http://localhost:4000/');
  });

  it('should refuse production without signing keys and an issuer unless ALLOW_DEVELOPMENT_KEYS=true', () => {
    const secrets = { CODE_HASH_SECRET: 'x'.repeat(32), CODE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
    const production = { NODE_ENV: 'production', ...secrets };
    expect(() => loadConfig(production)).toThrow(/ISSUER_BASE_URL: .*; SIGNING_KEYS: /);
    expect(loadConfig({ ...production, ALLOW_DEVELOPMENT_KEYS: 'true' }).issuerBaseUrl).toBe('http://localhost:3000/');
  });

  it('should accept previous encryption keys for opening', () => {
    const old = Buffer.alloc(32, 2).toString('base64');
    expect(loadConfig({ CODE_ENCRYPTION_KEYS: `${old}, ${old}` }).secrets.previousEncryptionKeys).toHaveLength(2);
    expect(() => loadConfig({ CODE_ENCRYPTION_KEYS: 'short' })).toThrow('CODE_ENCRYPTION_KEYS');
  });

  it('should require both secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CODE_HASH_SECRET.*CODE_ENCRYPTION_KEY/);
  });

  it('should read signing keys given as PEM entries and private JWKs, and the token settings', () => {
    const config = loadConfig({
      SIGNING_KEYS: JSON.stringify([
        { kid: 'a', pem: '-----BEGIN PRIVATE KEY-----' },
        { kty: 'RSA', kid: 'b', n: 'x', e: 'AQAB', d: 'y' },
      ]),
      SIGNING_KEY_ACTIVE_KID: 'b',
      TOKEN_AUDIENCES: 'https://api.example.com/ read:messages  write:messages, urn:other',
    });
    expect(config.tokens).toEqual({
      signingKeys: [
        { kid: 'a', pem: '-----BEGIN PRIVATE KEY-----' },
        { kid: 'b', jwk: { kty: 'RSA', kid: 'b', n: 'x', e: 'AQAB', d: 'y' } },
      ],
      activeKid: 'b',
      accessTokenTtl: 86400,
      idTokenTtl: 36000,
      apis: new Map([
        ['https://api.example.com/', ['read:messages', 'write:messages']],
        ['urn:other', []],
      ]),
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
