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

  it('should not let a bracketed key overwrite a scalar, nor touch the prototype', () => {
    const body = parseFormBody('authParams=x&authParams[scope]=y&__proto__[admin]=1');
    expect(body.authParams).toBe('x');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
