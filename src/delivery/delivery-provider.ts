import type { Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { definedVariables, readSection } from '../config/config-section';

/**
 * What a provider file exports: the name that selects it (EMAIL_PROVIDER, SMS_PROVIDER), its own environment variables
 * (a class-validator class whose initialisers are the defaults, as in config sections) and how to build it. Adding a
 * provider is that file plus its line in the channel's registry (email-providers.ts, sms-providers.ts).
 */
export interface DeliveryProviderDefinition<P, Vars extends object = object> {
  readonly name: string;
  readonly vars?: new () => Vars;
  /** Checks across its keys (required together, exclusive...), naming keys only: they hold credentials. */
  problems?(vars: Vars): string[];
  create(vars: Vars, config: AppConfig): P;
}

/** Identity function that lets TypeScript infer a definition's variable type. */
export const deliveryProvider = <P, Vars extends object>(
  definition: DeliveryProviderDefinition<P, Vars>,
): DeliveryProviderDefinition<P, Vars> => definition;

/**
 * The Nest provider for `token` built by the definition named `name` (the value of `key`), with its variables read from
 * `env` and validated; or the problems, naming keys only.
 */
export function resolveDeliveryProvider<P>(
  token: symbol,
  key: string,
  name: string,
  registered: readonly DeliveryProviderDefinition<P, object>[],
  env: NodeJS.ProcessEnv,
): { provider?: Provider; problems: string[] } {
  const definition = registered.find((candidate) => candidate.name === name);
  if (!definition) return { problems: [`${key} (one of ${registered.map((d) => d.name).join(', ')})`] };
  const { values, problems } = definition.vars
    ? readSection(definition.vars, definedVariables(env))
    : { values: {}, problems: [] };
  if (problems.length > 0) return { problems };
  const crossKey = definition.problems?.(values) ?? [];
  if (crossKey.length > 0) return { problems: crossKey };
  return {
    problems: [],
    provider: {
      provide: token,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => definition.create(values, config),
    },
  };
}
