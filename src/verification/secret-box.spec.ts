import { loadConfig } from '../config/app-config';
import { SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const sut = new SecretBox(loadConfig({}));

  it('should round-trip a secret without exposing it', () => {
    const sealed = sut.seal('record-1', { code: '123456', linkToken: 'tok' });
    expect(sealed).not.toContain('123456');
    expect(sut.open('record-1', sealed)).toEqual({ code: '123456', linkToken: 'tok' });
  });

  it('should refuse a sealed secret moved to another record or tampered with', () => {
    const sealed = sut.seal('record-1', { code: '123456' });
    expect(() => sut.open('record-2', sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => sut.open('record-1', parts.join('.'))).toThrow();
  });
});
