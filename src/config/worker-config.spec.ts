import { loadConfig, workerConfigProblems } from './app-config';

describe(workerConfigProblems.name, () => {
  const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'development', ...env });

  it('should default to the log providers outside production and to smtp/twilio in production', () => {
    expect(config({})).toMatchObject({
      email: { provider: 'log' },
      sms: { provider: 'log' },
      worker: { queues: ['email', 'sms'] },
    });
    const production = loadConfig({
      NODE_ENV: 'production',
      CODE_HASH_SECRET: 'x'.repeat(32),
      CODE_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    expect(production).toMatchObject({ email: { provider: 'smtp' }, sms: { provider: 'twilio' } });
    expect(workerConfigProblems(production)).toEqual([
      'SMTP_URL (required with EMAIL_PROVIDER=smtp)',
      'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (required with SMS_PROVIDER=twilio)',
    ]);
  });

  it('should only check the providers of the configured queues', () => {
    expect(
      workerConfigProblems(config({ WORKER_QUEUES: 'sms', EMAIL_PROVIDER: 'smtp', SMS_PROVIDER: 'http' })),
    ).toEqual(['SMS_GATEWAY_URL (required with SMS_PROVIDER=http)']);
    expect(
      workerConfigProblems(
        config({
          WORKER_QUEUES: 'email',
          EMAIL_PROVIDER: 'smtp',
          SMTP_URL: 'smtp://127.0.0.1:25',
          SMS_PROVIDER: 'twilio',
        }),
      ),
    ).toEqual([]);
  });

  it('should refuse both a Twilio sender and a messaging service', () => {
    const both = config({
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 't',
      TWILIO_FROM: '+15005550006',
      TWILIO_MESSAGING_SERVICE_SID: 'MG1',
    });
    expect(workerConfigProblems(both)).toEqual(['TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID (set one, not both)']);
  });

  it('should reject an unknown queue name and decode a base64 gateway secret', () => {
    expect(() => config({ WORKER_QUEUES: 'email,push' })).toThrow('WORKER_QUEUES');
    const gateway = config({
      SMS_GATEWAY_JWT_SECRET: Buffer.from('s'.repeat(20)).toString('base64'),
      SMS_GATEWAY_JWT_SECRET_BASE64: 'true',
    });
    expect(gateway.sms.gateway.jwt?.secret.toString()).toBe('s'.repeat(20));
  });
});

describe('log providers in production', () => {
  const production = {
    NODE_ENV: 'production',
    CODE_HASH_SECRET: 'x'.repeat(32),
    CODE_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
  };

  it('should refuse them unless ALLOW_LOG_PROVIDERS=true, naming the key', () => {
    expect(() => loadConfig({ ...production, EMAIL_PROVIDER: 'log' })).toThrow(/EMAIL_PROVIDER .*ALLOW_LOG_PROVIDERS/);
    expect(() => loadConfig({ ...production, SMS_PROVIDER: 'log' })).toThrow(/SMS_PROVIDER .*ALLOW_LOG_PROVIDERS/);
    const allowed = loadConfig({
      ...production,
      EMAIL_PROVIDER: 'log',
      SMS_PROVIDER: 'log',
      ALLOW_LOG_PROVIDERS: 'true',
    });
    expect(allowed).toMatchObject({ email: { provider: 'log' }, sms: { provider: 'log' } });
  });
});
