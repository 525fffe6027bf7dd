import { Matches } from 'class-validator';
import { configSection } from '../config-section';

class RedisVars {
  @Matches(/^rediss?:\/\//, { message: 'a redis:// or rediss:// URL' }) REDIS_URL = 'redis://127.0.0.1:6379';
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '1-64 letters, digits, _ or -' }) REDIS_PREFIX = 'pwl';
}

export interface RedisConfig {
  readonly redis: { url: string; prefix: string };
}

export const redisSection = configSection({
  vars: RedisVars,
  build: (vars): RedisConfig => ({ redis: { url: vars.REDIS_URL, prefix: vars.REDIS_PREFIX } }),
});
