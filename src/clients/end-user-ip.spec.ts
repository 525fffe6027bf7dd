import type { FastifyRequest } from 'fastify';
import type { ClientEntity } from './client.entity';
import { endUserIp } from './end-user-ip';

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
