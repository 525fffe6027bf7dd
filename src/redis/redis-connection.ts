import IORedis, { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import type { HostPort, RedisConfig } from '../config/sections/redis.config';

/** A connection to one Redis server (or the primary Sentinels name) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

const QUIT_TIMEOUT_MS = 1000;

/** The cluster-wide settings among RedisOptions; the rest apply to each node's connection. */
const CLUSTER_LEVEL = ['enableOfflineQueue', 'lazyConnect', 'enableAutoPipelining', 'enableReadyCheck'] as const;

/**
 * Opens a client for wherever configuration puts Redis: REDIS_CLUSTER_NODES (an ioredis Cluster), REDIS_SENTINELS (the
 * primary they name, followed across failovers) or REDIS_URL. Credentials, TLS and the database come from REDIS_URL in
 * every case, so moving to a Cluster or Sentinels changes only where the servers are.
 */
export function connectRedis(config: RedisConfig['redis'], options: RedisOptions = {}): RedisClient {
  if (config.clusterNodes) {
    const clusterOptions: ClusterOptions = {};
    const nodeOptions: RedisOptions = { ...urlOptions(config.url), ...options };
    for (const key of CLUSTER_LEVEL) {
      if (key in nodeOptions) Object.assign(clusterOptions, { [key]: nodeOptions[key] });
      delete nodeOptions[key];
    }
    // A Cluster has only database 0.
    delete nodeOptions.db;
    return new Cluster(config.clusterNodes, { ...clusterOptions, redisOptions: nodeOptions });
  }
  if (config.sentinel) {
    const { sentinels, name, password } = config.sentinel;
    return new IORedis({ ...urlOptions(config.url), sentinels, name, sentinelPassword: password, ...options });
  }
  return new IORedis(config.url, options);
}

/** Where Redis is, for logs: the URL without its password, or the Cluster's seeds, or the Sentinels' primary. */
export function describeRedis(config: RedisConfig['redis']): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (config.clusterNodes) return `Redis Cluster at REDIS_CLUSTER_NODES=${list(config.clusterNodes)}`;
  if (config.sentinel)
    return `Redis primary ${config.sentinel.name} of REDIS_SENTINELS=${list(config.sentinel.sentinels)}`;
  return `Redis at REDIS_URL=${redactedUrl(config.url)}`;
}

/** Closes a client politely, or at once when Redis cannot answer (a shutdown must not wait for an outage). */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  await Promise.race([client.quit().catch(() => undefined), gaveUp]);
  clearTimeout(timer);
  client.disconnect();
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'invalid URL';
  }
}

/** REDIS_URL's credentials, TLS and database as ioredis options (its host and port are not used). */
function urlOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.slice(1) || '0');
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
  };
}
