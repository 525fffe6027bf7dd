import { IsOptional, Matches } from 'class-validator';
import { configSection } from '../config-section';
import { commaList } from '../env-transforms';

const HOST_PORTS = /^\s*[A-Za-z0-9.[\]:_-]+:\d{1,5}\s*(,\s*[A-Za-z0-9.[\]:_-]+:\d{1,5}\s*)*$/;

class RedisVars {
  @Matches(/^rediss?:\/\//, { message: 'a redis:// or rediss:// URL' }) REDIS_URL = 'redis://127.0.0.1:6379';
  // Hash tags are added by the service (per queue and per limit subject), so the prefix itself must not hold one.
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: '1-64 letters, digits, _ or - (no braces: hash tags are added per key)',
  })
  REDIS_PREFIX = 'pwl';
  @IsOptional()
  @Matches(HOST_PORTS, { message: 'comma-separated host:port seed nodes of a Redis Cluster' })
  REDIS_CLUSTER_NODES?: string;
  @IsOptional()
  @Matches(HOST_PORTS, { message: 'comma-separated host:port Redis Sentinels' })
  REDIS_SENTINELS?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'the name of the primary the Sentinels monitor' })
  REDIS_SENTINEL_NAME?: string;
  @IsOptional() REDIS_SENTINEL_PASSWORD?: string;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server (`url`), a Cluster reached through seed nodes, or the primary the Sentinels name. The
 * URL's credentials, TLS (`rediss://`) and database apply to the Cluster's nodes and to the Sentinels' primary too.
 */
export interface RedisConfig {
  readonly redis: {
    url: string;
    prefix: string;
    clusterNodes?: HostPort[];
    sentinel?: { sentinels: HostPort[]; name: string; password?: string };
  };
}

/** `host:port`, `[v6]:port` or `v6addr:port` (the last colon separates the port). */
export function parseHostPorts(list: string): HostPort[] {
  return commaList(list).map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(at + 1)) };
  });
}

export const redisSection = configSection({
  vars: RedisVars,
  problems: (vars) => {
    const problems: string[] = [];
    if (vars.REDIS_CLUSTER_NODES && vars.REDIS_SENTINELS)
      problems.push(
        'REDIS_CLUSTER_NODES and REDIS_SENTINELS: set one of them, a Cluster or a Sentinel-managed primary',
      );
    if (vars.REDIS_SENTINELS && !vars.REDIS_SENTINEL_NAME)
      problems.push(
        'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the primary group name the Sentinels monitor)',
      );
    for (const key of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
      const value = vars[key];
      if (value && parseHostPorts(value).some((node) => node.port < 1 || node.port > 65535))
        problems.push(`${key}: ports 1-65535`);
    }
    return problems;
  },
  build: (vars): RedisConfig => ({
    redis: {
      url: vars.REDIS_URL,
      prefix: vars.REDIS_PREFIX,
      ...(vars.REDIS_CLUSTER_NODES ? { clusterNodes: parseHostPorts(vars.REDIS_CLUSTER_NODES) } : {}),
      ...(vars.REDIS_SENTINELS && vars.REDIS_SENTINEL_NAME
        ? {
            sentinel: {
              sentinels: parseHostPorts(vars.REDIS_SENTINELS),
              name: vars.REDIS_SENTINEL_NAME,
              ...(vars.REDIS_SENTINEL_PASSWORD ? { password: vars.REDIS_SENTINEL_PASSWORD } : {}),
            },
          }
        : {}),
    },
  }),
});
