import { loadConfig } from '../../config/app-config';
import { SmtpSink } from '../../../test/utils/smtp-sink';
import { smtpEmail, type SmtpEmailProvider } from './smtp-email.provider';

describe('SmtpEmailProvider', () => {
  let sink: SmtpSink;
  let provider: SmtpEmailProvider;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    provider = smtpEmail.create(
      { SMTP_URL: sink.url, SMTP_POOL_SIZE: 2, SMTP_TLS_REJECT_UNAUTHORIZED: true, SMTP_REQUIRE_TLS: false },
      loadConfig({}),
    );
  });
  afterAll(async () => {
    provider.onApplicationShutdown();
    await sink.close();
  });

  it('should send a text + HTML message that arrives field for field', async () => {
    const text = `Votre code : 123456\n.\nUne ligne assez longue pour être coupée en quoted-printable : ${'é'.repeat(60)}\n`;
    const html = `<p style="color: #333">Code&nbsp;: <b>123456</b></p>\n<p>${'x'.repeat(1200)}</p>`;
    const sent = await provider.send({
      from: 'Équipe Acme <login@acme.example>',
      to: 'user@example.com',
      subject: 'Votre code de connexion — Acme',
      text,
      html,
    });

    const [mail] = await sink.waitFor('user@example.com');
    expect(mail.from).toBe('"Équipe Acme" <login@acme.example>');
    expect(mail.subject).toBe('Votre code de connexion — Acme');
    expect(mail.text).toBe(text);
    expect(mail.html).toBe(html);
    expect(mail.messageId).toBe(sent.providerMessageId);
    expect(sent.providerMessageId).toMatch(/@acme\.example>$/);
    expect((mail.headers?.get('content-type') as { value: string }).value).toBe('multipart/alternative');
  });

  it('should deliver to an internationalised recipient domain', async () => {
    await provider.send({
      from: 'Acme <login@acme.example>',
      to: 'user@jõgeva.ee',
      subject: 's',
      text: 't',
      html: 'h',
    });
    const [mail] = await sink.waitFor('user@jõgeva.ee');
    expect(mail.headers?.get('to')).toMatchObject({ value: [{ address: 'user@jõgeva.ee' }] });
  });
});
