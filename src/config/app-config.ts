import { ConfigError } from './config-error';
import {
  type BootContext,
  type ConfigSection,
  definedVariables,
  readSection,
  type UnionToIntersection,
} from './config-section';
import { authorizeSection } from './sections/authorize.config';
import { databaseSection } from './sections/database.config';
import { deliverySection } from './sections/delivery.config';
import { emailSection } from './sections/email.config';
import { httpSection } from './sections/http.config';
import { rateLimitSection } from './sections/rate-limit.config';
import { redisSection } from './sections/redis.config';
import { refreshTokensSection } from './sections/refresh-tokens.config';
import { retentionSection } from './sections/retention.config';
import { runtimeSection } from './sections/runtime.config';
import { secretsSection } from './sections/secrets.config';
import { smsGuardSection } from './sections/sms-guard.config';
import { smsSection } from './sections/sms.config';
import { tokensSection } from './sections/tokens.config';
import { workerSection } from './sections/worker.config';

export { ConfigError };

/**
 * Every feature's configuration, one file each in ./sections. To configure a new feature, write its section (the
 * variables with their checks and defaults, and the part of the tree it builds) and list it here.
 */
const SECTIONS = [
  runtimeSection,
  httpSection,
  databaseSection,
  redisSection,
  secretsSection,
  deliverySection,
  workerSection,
  emailSection,
  smsSection,
  rateLimitSection,
  smsGuardSection,
  tokensSection,
  refreshTokensSection,
  authorizeSection,
  retentionSection,
] as const;

/** Any section, for iterating over the list (each section's own types are checked where it is defined). */
type Section = ConfigSection<object, object>;
type ConfigTree = UnionToIntersection<ReturnType<(typeof SECTIONS)[number]['build']>>;

/**
 * The typed configuration tree the rest of the code depends on: every section's part together. A class so that Nest
 * can inject it by type.
 */
export abstract class AppConfig extends (Object as unknown as abstract new () => ConfigTree) {}

/** Validates `env` once and builds the typed tree. Throws ConfigError naming the bad keys (never their values). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const defined = definedVariables(env);
  const boot: BootContext = {
    production: defined.NODE_ENV === 'production',
    allowDevelopmentKeys: ['true', '1'].includes(defined.ALLOW_DEVELOPMENT_KEYS),
  };
  const problems: string[] = [];
  const parts: object[] = [];
  for (const section of SECTIONS as readonly Section[]) {
    const { values, problems: invalid } = readSection(section.vars, defined);
    problems.push(...invalid, ...(section.problems?.(values, boot) ?? []));
    if (problems.length === 0) parts.push(section.build(values, boot));
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return Object.assign({}, ...parts) as AppConfig;
}

/**
 * Settings only a worker needs, checked when a worker boots (the API process does not need SMTP or Twilio
 * credentials). Returns the problems, naming keys only.
 */
export function workerConfigProblems(config: AppConfig): string[] {
  return (SECTIONS as readonly Section[]).flatMap((section) =>
    section.workerProblems ? section.workerProblems(config, config.worker.queues) : [],
  );
}
