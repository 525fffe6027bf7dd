import { simpleParser } from 'mailparser';
import { MimeMessageBuilder } from './mime-message';

describe(MimeMessageBuilder.name, () => {
  const builder = new MimeMessageBuilder();

  it('should build a text + HTML message that a mail parser reads back field for field', async () => {
    const text = `Votre code : 123456\n.\nUne ligne assez longue pour être coupée en quoted-printable : ${'é'.repeat(60)}\n`;
    const html = `<p style="color: #333">Code&nbsp;: <b>123456</b></p>\n<p>${'x'.repeat(120)}</p>`;
    const built = builder.build({
      from: 'Équipe Acme <login@acme.example>',
      to: 'user@example.com',
      subject: 'Votre code de connexion — Acme',
      text,
      html,
    });

    const parsed = await simpleParser(built.raw);
    expect(parsed.from?.value).toEqual([{ name: 'Équipe Acme', address: 'login@acme.example' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'user@example.com', name: '' }] });
    expect(parsed.subject).toBe('Votre code de connexion — Acme');
    expect(parsed.text).toBe(text);
    expect(parsed.html).toBe(html);
    expect(parsed.messageId).toBe(built.messageId);
    expect(built.messageId).toMatch(/^<[0-9a-f-]+@acme\.example>$/);
    expect(parsed.date).toBeInstanceOf(Date);
    expect(built.envelope).toEqual({ from: 'login@acme.example', to: ['user@example.com'] });
  });

  it('should keep every line within the SMTP limit and end lines with CRLF only', () => {
    const built = builder.build({
      from: 'a@b.example',
      to: 'c@d.example',
      subject: 's'.repeat(200),
      text: 'y'.repeat(3000),
      html: '<p>\r\nz</p>\n',
    });
    const lines = built.raw.toString('utf8').split('\r\n');
    expect(lines.every((line) => line.length <= 998 && !line.includes('\n') && !line.includes('\r'))).toBe(true);
  });

  it('should encode an internationalised recipient domain in punycode, in the header and the envelope', () => {
    const built = builder.build({
      from: 'Acme <login@acme.example>',
      to: 'user@jõgeva.ee',
      subject: 's',
      text: 't',
      html: '<p>h</p>',
    });

    expect(built.envelope.to).toEqual(['user@xn--jgeva-dua.ee']);
    expect(built.raw.toString('utf8')).toContain('\r\nTo: user@xn--jgeva-dua.ee\r\n');
  });
});
