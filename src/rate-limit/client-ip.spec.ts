import type { FastifyRequest } from 'fastify';
import type { ClientEntity } from '../clients/client.entity';
import { loadConfig } from '../config/app-config';
import { endUserIp, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';

describe(endUserIp.name, () => {
  const request = (forwarded?: string) =>
    ({
      ip: '10.0.0.1',
      headers: forwarded === undefined ? {} : { 'auth0-forwarded-for': forwarded },
    }) as unknown as FastifyRequest;
  const client = (authMethod: string, trustForwardedFor: boolean) =>
    ({ authMethod, trustForwardedFor }) as ClientEntity;

  it('should take auth0-forwarded-for only from a trusted confidential client, and only when it is an IP', () => {
    expect(endUserIp(request(' 203.0.113.7 '), client('client_secret_post', true))).toBe('203.0.113.7');
    expect(endUserIp(request('2001:db8::1'), client('private_key_jwt', true))).toBe('2001:db8::1');
    expect(endUserIp(request('203.0.113.7'), client('client_secret_post', false))).toBe('10.0.0.1');
    expect(endUserIp(request('203.0.113.7'), client('none', true))).toBe('10.0.0.1');
    expect(endUserIp(request('203.0.113.7, 10.1.1.1'), client('client_secret_post', true))).toBe('10.0.0.1');
    expect(endUserIp(request(), client('client_secret_post', true))).toBe('10.0.0.1');
  });
});

describe(ipLimitKey.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:0:12::1', '2001:db8:0:12::/64'],
    ['2001:0db8:0000:0012:ffff:1:2:3', '2001:db8:0:12::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('should key %s as %s', (ip, key) => {
    expect(ipLimitKey(ip)).toBe(key);
  });
});

describe(effectiveLimits.name, () => {
  const defaults = loadConfig({}).rateLimit.defaults;

  it('should apply whole-number overrides and ignore anything else', () => {
    const merged = effectiveLimits(defaults, {
      startPerIp: 5,
      startIdentifierCooldownMs: 0,
      startPerClient: 0,
      otpFailuresPerIp: '9',
      otpFailuresPerIdentifier: 2.5,
      unknown: 1,
    });
    expect(merged).toEqual({ ...defaults, startPerIp: 5, startIdentifierCooldownMs: 0 });
    expect(effectiveLimits(defaults, null)).toBe(defaults);
  });
});
