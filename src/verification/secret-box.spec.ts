import { loadConfig } from '../config/app-config';
import { SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const sut = new SecretBox(loadConfig({}));

  it('should round-trip a secret without exposing it', () => {
    const sealed = sut.seal('record-1', { code: '123456', linkToken: 'tok' });
    expect(sealed).not.toContain('123456');
    expect(sut.open('record-1', sealed)).toEqual({ code: '123456', linkToken: 'tok' });
  });

  it('should open what a previous key sealed once it is in CODE_ENCRYPTION_KEYS, and name the keys otherwise', () => {
    const oldKey = Buffer.alloc(32, 3).toString('base64');
    const sealed = new SecretBox(loadConfig({ CODE_ENCRYPTION_KEY: oldKey })).seal('record-1', { code: '123456' });
    const newKey = { CODE_ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64') };
    expect(() => new SecretBox(loadConfig(newKey)).open('record-1', sealed)).toThrow(
      'The code of record record-1 cannot be opened with CODE_ENCRYPTION_KEY or any key in CODE_ENCRYPTION_KEYS',
    );
    const rotated = new SecretBox(loadConfig({ ...newKey, CODE_ENCRYPTION_KEYS: oldKey }));
    expect(rotated.open('record-1', sealed)).toEqual({ code: '123456' });
  });

  it('should refuse a sealed secret moved to another record or tampered with', () => {
    const sealed = sut.seal('record-1', { code: '123456' });
    expect(() => sut.open('record-2', sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => sut.open('record-1', parts.join('.'))).toThrow();
  });
});
