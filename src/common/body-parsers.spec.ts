import { parseFormBody } from './body-parsers';

describe(parseFormBody.name, () => {
  it('should fold one level of bracketed keys into objects', () => {
    expect(parseFormBody('client_id=a&authParams%5Bscope%5D=openid+email&authParams[state]=xyz')).toEqual({
      client_id: 'a',
      authParams: { scope: 'openid email', state: 'xyz' },
    });
  });

  it('should keep repeated keys as arrays so validation can refuse them', () => {
    expect(parseFormBody('email=a%40b.co&email=c%40d.co')).toEqual({ email: ['a@b.co', 'c@d.co'] });
  });

  it.each([
    ['a __proto__ key', 'client_id=a&__proto__[admin]=1'],
    ['a nested __proto__ key', 'client_id=a&authParams[__proto__]=1'],
    ['a NUL in a value', 'client_id=a&authParams%5Bstate%5D=%00'],
    ['a NUL in a key', 'client_id=a&x%00=1'],
    ['more than 1000 parameters', Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&')],
  ])('should refuse %s with a 400, without touching the prototype', (_label, form) => {
    expect(() => parseFormBody(form)).toThrow(expect.objectContaining({ statusCode: 400 }) as Error);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
