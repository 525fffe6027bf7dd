import { parseClientSpec, readPublicJwks, renderClientMigration } from './client-migration';
import { PASSWORDLESS_OTP_GRANT } from './client.entity';

describe(parseClientSpec.name, () => {
  const noFile = () => {
    throw new Error('no file expected');
  };

  it('should default a native client to a public client with the OTP, code, implicit and refresh_token grants', () => {
    expect(parseClientSpec(['--name', 'App', '--type', 'native'], noFile)).toEqual({
      name: 'App',
      appType: 'native',
      authMethod: 'none',
      connections: ['email', 'sms'],
      callbacks: [],
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
    });
  });

  it('should give a regular web app no refresh_token grant by default', () => {
    expect(parseClientSpec(['--name', 'App'], noFile).grantTypes).toEqual([
      PASSWORDLESS_OTP_GRANT,
      'authorization_code',
      'implicit',
    ]);
  });

  it("should take a SPA's web origins, CORS origins and logout URLs", () => {
    const spec = parseClientSpec(
      [
        '--name',
        'Spa',
        '--type',
        'spa',
        '--web-origins',
        'http://127.0.0.1:4200,https://app.example.com',
        '--allowed-origins',
        'https://admin.example.com:8443',
        '--logout-urls',
        'https://app.example.com/bye?x=1',
      ],
      noFile,
    );
    expect(spec).toMatchObject({
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
      webOrigins: ['http://127.0.0.1:4200', 'https://app.example.com'],
      allowedOrigins: ['https://admin.example.com:8443'],
      allowedLogoutUrls: ['https://app.example.com/bye?x=1'],
    });
    const rendered = renderClientMigration(spec, 1795639300000);
    expect(rendered.source).toContain('"web_origins": [');
    expect(rendered.source).toContain('"allowed_logout_urls": [');
  });

  it.each([
    [['--type', 'spa'], '--name is required'],
    [['--name', 'x', '--type', 'robot'], '--type must be one of'],
    [['--name', 'x', '--type', 'spa', '--auth', 'client_secret_post'], 'is public'],
    [['--name', 'x', '--auth', 'none'], 'is confidential'],
    [['--name', 'x', '--auth', 'private_key_jwt'], '--jwks-file is required'],
    [['--name', 'x', '--callbacks', 'not a url'], 'Not a URL'],
    [['--name', 'x', '--web-origins', 'https://app.example.com/'], 'Not an exact origin'],
    [['--name', 'x', '--web-origins', 'https://*.example.com'], 'Not an exact origin'],
    [['--name', 'x', '--allowed-origins', 'ftp://files.example.com'], 'Not an exact origin'],
    [['--name', 'x', '--allowed-origins', 'https://app.example.com/path'], 'Not an exact origin'],
    [['--name', 'x', '--logout-urls', 'nope'], 'Not a URL in --logout-urls'],
    [['--name', 'x', '--colour', 'red'], 'Unknown option'],
    [['--name'], "Option '--name <value>' argument missing"],
    [['--name', '--type', 'spa'], 'argument is ambiguous'],
    [['--name', 'x', 'extra'], 'Unexpected argument'],
    [['--name', 'x', '--rate-limits', '{"startPerIP":5}'], 'unknown limit startPerIP'],
    [['--name', 'x', '--rate-limits', '{"startPerIp":0}'], 'startPerIp must be a whole number >= 1'],
    [['--name', 'x', '--rate-limits', '[1]'], 'must be a JSON object'],
    [['--name', 'x', '--type', 'spa', '--trust-forwarded-for', 'true'], 'only for confidential clients'],
  ])('should refuse %j', (argv, message) => {
    expect(() => parseClientSpec(argv, noFile)).toThrow(message);
  });

  it('should carry per-client limits and forwarded-for trust into the migration', () => {
    const spec = parseClientSpec(
      [
        '--name',
        'Backend',
        '--rate-limits',
        '{"startPerIp":500,"startIdentifierCooldownMs":0}',
        '--trust-forwarded-for',
        'true',
      ],
      noFile,
    );
    expect(spec).toMatchObject({
      rateLimits: { startPerIp: 500, startIdentifierCooldownMs: 0 },
      trustForwardedFor: true,
    });
    const source = renderClientMigration(spec, 1795639300000).source;
    expect(source).toContain('"startPerIp": 500');
    expect(source).toContain('"trust_forwarded_for": true');
  });
});

describe(readPublicJwks.name, () => {
  it('should refuse private key material', () => {
    expect(() => readPublicJwks(JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret' }))).toThrow(
      'private key material',
    );
  });

  it('should wrap a single JWK into a set', () => {
    expect(readPublicJwks(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }))).toEqual({
      keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }],
    });
  });
});

describe(renderClientMigration.name, () => {
  it('should embed the hash but never the secret, and give a 32-character client_id', () => {
    const rendered = renderClientMigration(
      {
        name: 'Acme web',
        appType: 'regular_web',
        authMethod: 'client_secret_post',
        connections: ['email'],
        callbacks: [],
        grantTypes: [],
      },
      1795639300000,
    );
    expect(rendered.clientId).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(rendered.secret).toBeDefined();
    expect(rendered.source).not.toContain(rendered.secret!);
    expect(rendered.source).toContain('sha256:');
    expect(rendered.fileName).toBe('1795639300000-AddClientAcmeWeb.ts');
    expect(rendered.className).toBe('AddClientAcmeWeb1795639300000');
  });
});
