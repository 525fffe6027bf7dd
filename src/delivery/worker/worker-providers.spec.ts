import { loadConfig } from '../../config/app-config';
import { workerProviders } from './worker.module';

describe(workerProviders.name, () => {
  const problems = (env: Record<string, string>) =>
    workerProviders(loadConfig({ NODE_ENV: 'development', ...env }), env).problems;

  it('should default to the log providers outside production and to smtp/twilio in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({
      email: { provider: 'log' },
      sms: { provider: 'log' },
      worker: { queues: ['email', 'sms'] },
    });
    expect(problems({})).toEqual([]);
    const env = {
      NODE_ENV: 'production',
      ALLOW_DEVELOPMENT_KEYS: 'true',
      CODE_HASH_SECRET: 'x'.repeat(32),
      CODE_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    };
    const production = loadConfig(env);
    expect(production).toMatchObject({ email: { provider: 'smtp' }, sms: { provider: 'twilio' } });
    expect(workerProviders(production, env).problems).toEqual([
      'SMTP_URL (required with EMAIL_PROVIDER=smtp)',
      'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (required with SMS_PROVIDER=twilio)',
    ]);
  });

  it('should only check the providers of the configured queues', () => {
    expect(problems({ WORKER_QUEUES: 'sms', EMAIL_PROVIDER: 'smtp', SMS_PROVIDER: 'http' })).toEqual([
      'SMS_GATEWAY_URL (required with SMS_PROVIDER=http)',
    ]);
    expect(
      problems({
        WORKER_QUEUES: 'email',
        EMAIL_PROVIDER: 'smtp',
        SMTP_URL: 'smtp://127.0.0.1:25',
        SMS_PROVIDER: 'twilio',
      }),
    ).toEqual([]);
  });

  it('should name the registered providers when the configured one is unknown', () => {
    expect(problems({ EMAIL_PROVIDER: 'sendgrid', SMS_PROVIDER: 'carrier-pigeon' })).toEqual([
      'EMAIL_PROVIDER (one of smtp, log)',
      'SMS_PROVIDER (one of twilio, http, log)',
    ]);
  });

  it('should validate a provider’s own variables, naming keys only', () => {
    expect(problems({ EMAIL_PROVIDER: 'smtp', SMTP_URL: 'http://mail', SMTP_POOL_SIZE: '0' })).toEqual([
      'SMTP_URL: an smtp:// or smtps:// URL, got another value (11 characters)',
      'SMTP_POOL_SIZE: an integer 1-100, got 0',
    ]);
  });

  it('should refuse both a Twilio sender and a messaging service', () => {
    expect(
      problems({
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: 'AC1',
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_FROM: '+15005550006',
        TWILIO_MESSAGING_SERVICE_SID: 'MG1',
      }),
    ).toEqual(['TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID (set one, not both)']);
  });

  it('should reject an unknown queue name', () => {
    expect(() => loadConfig({ WORKER_QUEUES: 'email,push' })).toThrow('WORKER_QUEUES');
  });
});

describe('log providers in production', () => {
  const production = {
    NODE_ENV: 'production',
    ALLOW_DEVELOPMENT_KEYS: 'true',
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
