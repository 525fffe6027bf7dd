import { DeliveryError } from '../worker/delivery-error';
import { DEFAULT_TEMPLATES } from './default-templates';
import { MessageRenderer, pickTemplate, type TemplateVariables } from './message-renderer';

const vars = (overrides: Partial<TemplateVariables> = {}): TemplateVariables => ({
  code: '123456',
  link: null,
  send: 'code',
  application: { name: 'Acme & Co' },
  connection: { name: 'email' },
  request_language: null,
  operation: null,
  ...overrides,
});

describe(MessageRenderer.name, () => {
  const sut = new MessageRenderer();

  it('should render the default English code email with HTML escaping only in the HTML part', () => {
    const mail = sut.renderEmail({}, null, vars());
    expect(mail.subject).toBe('Your verification code for Acme & Co');
    expect(mail.text).toContain('Your verification code for Acme & Co is: 123456');
    expect(mail.html).toContain('Acme &amp; Co');
    expect(mail.html).toContain('>123456<');
  });

  it('should render the default link email with the link and without the code', () => {
    const mail = sut.renderEmail(
      {},
      null,
      vars({ send: 'link', link: 'https://t.example/passwordless/verify_redirect?a=1&b=2' }),
    );
    expect(mail.subject).toBe('Sign in to Acme & Co');
    expect(mail.text).toContain('https://t.example/passwordless/verify_redirect?a=1&b=2');
    expect(mail.html).toContain('href="https://t.example/passwordless/verify_redirect?a=1&amp;b=2"');
    expect(mail.text).not.toContain('123456');
  });

  it('should render Auth0’s canonical template', () => {
    const canonical = `{% if send == 'link' or send == 'link_ios' or send == 'link_android' %}Your verification link is: {{ link }}{% elsif send == 'code' %}Your verification code is: {{ code }}{% endif %}`;
    expect(sut.renderEmail({ default: { text: canonical } }, null, vars()).text).toBe(
      'Your verification code is: 123456',
    );
  });

  it('should turn a Liquid syntax error and an unknown filter into permanent errors', () => {
    expect(() => sut.renderEmail({ default: { subject: '{% if code %}' } }, null, vars())).toThrow(
      expect.objectContaining({ permanent: true }),
    );
    expect(() => sut.renderSms({ default: { sms: '{{ code | nope }}' } }, null, vars())).toThrow(DeliveryError);
  });
});

describe(pickTemplate.name, () => {
  const templates = {
    'fr-CA': { subject: 'ca' },
    fr: { subject: 'fr', text: 'fr text' },
    DEFAULT: { subject: 'default', sms: 'sms default' },
  };

  it('should prefer the exact language, then its primary subtag, then default, then the built-in, field by field', () => {
    expect(pickTemplate(templates, 'fr-ca', 'subject')).toBe('ca');
    expect(pickTemplate(templates, 'fr-CA', 'text')).toBe('fr text');
    expect(pickTemplate(templates, 'fr-BE', 'subject')).toBe('fr');
    expect(pickTemplate(templates, 'de', 'subject')).toBe('default');
    expect(pickTemplate(templates, null, 'sms')).toBe('sms default');
    expect(pickTemplate(templates, 'fr', 'html')).toBe(DEFAULT_TEMPLATES.html);
  });
});
