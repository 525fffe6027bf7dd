import { smtpDeliveryError } from '../email/smtp-email.provider';
import { withWebOtpLine } from '../sms/sms.channel';
import { DeliveryError, httpDeliveryError, sanitiseError } from './delivery-error';

describe('delivery failure classification', () => {
  it('should treat SMTP 4xx and socket errors as transient and 5xx as permanent', () => {
    expect(
      smtpDeliveryError(Object.assign(new Error('x'), { responseCode: 451, command: 'RCPT TO', code: 'EENVELOPE' })),
    ).toEqual(expect.objectContaining({ permanent: false, message: 'SMTP 451 on RCPT TO (EENVELOPE)' }));
    expect(smtpDeliveryError(Object.assign(new Error('x'), { responseCode: 550, code: 'EENVELOPE' })).permanent).toBe(
      true,
    );
    expect(smtpDeliveryError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toEqual(
      expect.objectContaining({ permanent: false, message: 'SMTP ESOCKET: connect ECONNREFUSED' }),
    );
  });

  it.each([
    [500, false],
    [503, false],
    [429, false],
    [408, false],
    [400, true],
    [401, true],
    [404, true],
  ])('should classify HTTP %i as permanent=%s', (status, permanent) => {
    expect(httpDeliveryError('Vendor', status, '').permanent).toBe(permanent);
  });

  it('should mask secrets echoed in an error and cap its length', () => {
    const text = sanitiseError(new DeliveryError(`rejected body "Your code is 424242" ${'x'.repeat(600)}`, true), [
      '424242',
      undefined,
    ]);
    expect(text).not.toContain('424242');
    expect(text).toContain('[redacted]');
    expect(text.length).toBe(500);
    expect(sanitiseError(new TypeError('boom'), [])).toBe('TypeError: boom');
  });
});

describe(withWebOtpLine.name, () => {
  it('should append the Web OTP binding line once', () => {
    expect(withWebOtpLine('Code 123456', 'login.example.com', '123456')).toBe(
      'Code 123456\n\n@login.example.com #123456',
    );
    expect(withWebOtpLine('Code\n\n@login.example.com #123456', 'login.example.com', '123456')).toBe(
      'Code\n\n@login.example.com #123456',
    );
  });
});
