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

  it('should require both secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CODE_HASH_SECRET.*CODE_ENCRYPTION_KEY/);
  });
});
