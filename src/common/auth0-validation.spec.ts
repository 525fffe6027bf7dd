import { HttpException, ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';
import { IsEmail } from 'class-validator';
import { START_FIELD_PRIORITY, StartPasswordlessDto } from '../passwordless/start-passwordless.dto';
import { ApiError } from './api-error';
import { Auth0Field, auth0ValidationOptions, auth0ValidationPipe, optionalString } from './auth0-validation';

const asBody = (metatype: Type<object>): ArgumentMetadata => ({ type: 'body', metatype, data: '' });
const withoutPrototype = (fields: object) => Object.assign(Object.create(null) as object, fields);

/** What a caller sees: the DTO's class and fields, or the error's status and body. */
async function outcome(
  pipe: ValidationPipe,
  value: unknown,
  metadata = asBody(StartPasswordlessDto),
): Promise<unknown> {
  try {
    const result: unknown = await pipe.transform(value, metadata);
    return typeof result === 'object' && result !== null
      ? { class: result.constructor?.name, fields: { ...result } }
      : { value: result };
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, body: err.toBody() };
    if (err instanceof HttpException) return { status: err.getStatus(), body: err.getResponse() };
    throw err;
  }
}

// Made afresh for each pipe: ValidationPipe deletes `__proto__` keys from the value it is given.
const valid: Array<[string, () => unknown]> = [
  ['an email start', () => ({ client_id: 'abc', connection: 'email', email: 'user@example.com' })],
  [
    'every field',
    () => ({
      client_id: 'abc',
      client_secret: 's',
      client_assertion: 'a',
      client_assertion_type: 't',
      connection: 'email',
      send: 'code',
      authParams: { scope: 'openid', n: 1, b: true },
      email: 'user@example.com',
      phone_number: '+15551234567',
      captcha: 'x',
    }),
  ],
  [
    'nulls where Auth0 allows them',
    () => ({ connection: 'sms', send: null, authParams: null, email: null, phone_number: '+1555' }),
  ],
  [
    'a form body (no prototype)',
    () => withoutPrototype({ client_id: 'abc', connection: 'email', send: 'link', email: 'a@b.c' }),
  ],
];

const invalid: Array<[string, () => unknown]> = [
  ['an unknown property', () => ({ connection: 'email', email: 'a@b.c', foo: 1 })],
  ['two unknown properties and a bad field', () => ({ connection: 5, bar: 'x', foo: 1 })],
  ['no connection', () => ({ email: 'a@b.c' })],
  ['an empty object', () => ({})],
  ['a null connection', () => ({ connection: null })],
  ['a numeric connection', () => ({ connection: 5 })],
  ['a send outside the enum', () => ({ connection: 'email', send: 'sms' })],
  ['a numeric send', () => ({ connection: 'email', send: 3 })],
  ['authParams as an array', () => ({ connection: 'email', authParams: [] })],
  ['a nested authParams value', () => ({ connection: 'email', authParams: { a: {} } })],
  ['a bad authParams key', () => ({ connection: 'email', authParams: { 'a b': 'x' } })],
  ['a numeric email', () => ({ connection: 'email', email: 5 })],
  ['a numeric client_id', () => ({ client_id: 5, connection: 'email' })],
  ['an array body', () => [{ connection: 'email' }]],
  ['a string body', () => 'connection=email'],
  ['a null body', () => null],
  ['no body', () => undefined],
  ['a Date', () => new Date(0)],
];

/** Keys ValidationPipe deletes at any depth before validating (`__proto__`, `prototype`, `constructor`): left to it. */
const unusual: Array<[string, () => unknown]> = [
  ['a __proto__ key', () => JSON.parse('{"connection":"email","__proto__":{"polluted":true}}') as unknown],
  ['a constructor key', () => ({ connection: 'email', constructor: 'x' })],
  ['a prototype key', () => ({ connection: 'email', prototype: 'x' })],
  [
    'a __proto__ key in authParams',
    () => JSON.parse('{"connection":"email","authParams":{"__proto__":"x","scope":"openid"}}') as unknown,
  ],
  ['a prototype key in authParams', () => ({ connection: 'email', authParams: { prototype: 'x' } })],
  ['a constructor key in authParams', () => ({ connection: 'email', authParams: { constructor: 'x' } })],
  [
    "a __proto__ key in a form body's authParams",
    () => withoutPrototype({ connection: 'email', authParams: withoutPrototype({ ['__proto__']: 'x' }) }),
  ],
];

describe('auth0ValidationPipe', () => {
  const pipe = auth0ValidationPipe(START_FIELD_PRIORITY);
  const reference = new ValidationPipe(auth0ValidationOptions(START_FIELD_PRIORITY));
  afterEach(() => jest.restoreAllMocks());

  it.each([...valid, ...invalid, ...unusual])(
    'should answer %s exactly as class-validator does',
    async (_name, makeBody) => {
      expect(await outcome(pipe, makeBody())).toEqual(await outcome(reference, makeBody()));
    },
  );

  it.each(valid)('should accept %s without running class-validator', async (_name, makeBody) => {
    const classValidator = jest.spyOn(ValidationPipe.prototype, 'transform');
    const result = await outcome(pipe, makeBody());
    expect(result).toEqual({
      class: StartPasswordlessDto.name,
      fields: expect.objectContaining({ ...(makeBody() as object) }) as unknown,
    });
    expect(classValidator).not.toHaveBeenCalled();
  });

  it.each(invalid)('should leave %s to class-validator', async (_name, makeBody) => {
    const classValidator = jest.spyOn(ValidationPipe.prototype, 'transform');
    expect(await outcome(pipe, makeBody())).toMatchObject({ status: 400 });
    expect(classValidator).toHaveBeenCalledTimes(1);
  });

  it.each(unusual)('should leave %s to class-validator', async (_name, makeBody) => {
    const classValidator = jest.spyOn(ValidationPipe.prototype, 'transform');
    await outcome(pipe, makeBody());
    expect(classValidator).toHaveBeenCalledTimes(1);
  });

  it('should leave a class with rules other than Auth0Field to class-validator', async () => {
    class MixedRules {
      @Auth0Field('bad.request', optionalString('name')) name?: string;
      @IsEmail() contact?: string;
    }
    const body = { name: 'n', contact: 'not-an-email' };
    expect(await outcome(pipe, body, asBody(MixedRules))).toEqual({
      status: 400,
      body: { error: 'bad.request', error_description: 'contact must be an email' },
    });
    expect(await outcome(pipe, body, asBody(MixedRules))).toEqual(await outcome(reference, body, asBody(MixedRules)));
  });

  it('should leave a subclass that adds rules to class-validator', async () => {
    class StricterStart extends StartPasswordlessDto {
      @Auth0Field('bad.request', (value) => (value === 'yes' ? null : 'must be yes')) consent?: string;
    }
    const body = { connection: 'email', consent: 'no' };
    expect(await outcome(pipe, body, asBody(StricterStart))).toEqual({
      status: 400,
      body: { error: 'bad.request', error_description: 'must be yes' },
    });
  });

  it('should pass a custom decorator parameter through untouched, as ValidationPipe does', async () => {
    const value = { connection: 'email' };
    await expect(pipe.transform(value, { type: 'custom', metatype: StartPasswordlessDto })).resolves.toBe(value);
  });

  it('should run every check of a property declared twice', async () => {
    class TwiceChecked {
      @Auth0Field('bad.request', optionalString('code'))
      @Auth0Field('bad.request', (value) => (value === undefined || value === 'ok' ? null : 'must be ok'))
      code?: string;
    }
    expect(await outcome(pipe, { code: 'nope' }, asBody(TwiceChecked))).toEqual({
      status: 400,
      body: { error: 'bad.request', error_description: 'must be ok' },
    });
  });

  it.each([
    ['an empty Buffer', () => Buffer.alloc(0)],
    ['an empty array', () => []],
    ['a string', () => 'x'],
    ['an object with a prototype', () => Object.assign(Object.create({ inherited: true }) as object, { name: 'n' })],
  ])('should answer %s for a DTO without required fields exactly as class-validator does', async (_name, makeBody) => {
    class AllOptional {
      @Auth0Field('bad.request', optionalString('name')) name?: string;
    }
    expect(await outcome(pipe, makeBody(), asBody(AllOptional))).toEqual(
      await outcome(reference, makeBody(), asBody(AllOptional)),
    );
  });

  it.each([
    ['a Buffer', () => ({ data: Buffer.from('x') })],
    // eslint-disable-next-line no-sparse-arrays -- ValidationPipe closes the gap before it validates
    ['a sparse array', () => ({ data: [, 'a'] })],
    ['a nested Date', () => ({ data: { at: new Date(0) } })],
  ])(
    'should leave %s in a field that accepts anything to class-validator, with the same outcome',
    async (_name, makeBody) => {
      class AnyData {
        @Auth0Field('bad.request', () => null) data?: unknown;
      }
      const classValidator = jest.spyOn(ValidationPipe.prototype, 'transform');
      expect(await outcome(pipe, makeBody(), asBody(AnyData))).toEqual(
        await outcome(reference, makeBody(), asBody(AnyData)),
      );
      expect(classValidator).toHaveBeenCalledTimes(2);
    },
  );
});
