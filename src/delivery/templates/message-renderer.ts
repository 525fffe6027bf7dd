import { Injectable } from '@nestjs/common';
import { Liquid, type Template } from 'liquidjs';
import type { ConnectionTemplates } from '../../verification/connection.entity';
import { DeliveryError } from '../worker/delivery-error';
import { DEFAULT_TEMPLATES, type TemplateField } from './default-templates';

/** Auth0's template variables (docs/operations.md, "Message templates"). */
export interface TemplateVariables {
  code: string;
  link: string | null;
  send: 'code' | 'link';
  application: { name: string };
  connection: { name: string };
  request_language: string | null;
  email?: string;
  phone_number?: string;
  /** SMS templates from Auth0 call the code `password`. */
  password?: string;
  operation: null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const PARSE_CACHE_LIMIT = 500;

/**
 * Renders connection templates (Liquid, like Auth0) with per-language variants: the record's request language
 * (`fr-CA`), then its primary subtag (`fr`), then the connection's `default` set, then the built-in English text.
 * Each field falls back on its own. Any Liquid error is a permanent DeliveryError: retrying cannot fix a template.
 */
@Injectable()
export class MessageRenderer {
  private readonly options = { strictFilters: true, ownPropertyOnly: true, greedy: false } as const;
  private readonly plain = new Liquid(this.options);
  /** HTML parts escape every output, so an application name cannot inject markup. */
  private readonly html = new Liquid({ ...this.options, outputEscape: 'escape' });
  private readonly parsed = new Map<string, Template[]>();

  /** Synchronous on purpose: templates have no async tags, and this runs for every message (worker throughput). */
  renderEmail(templates: ConnectionTemplates, language: string | null, vars: TemplateVariables): RenderedEmail {
    return {
      subject: this.render(this.plain, 'subject', templates, language, vars).replace(/\s+/g, ' ').trim(),
      html: this.render(this.html, 'html', templates, language, vars),
      text: this.render(this.plain, 'text', templates, language, vars),
    };
  }

  renderSms(templates: ConnectionTemplates, language: string | null, vars: TemplateVariables): string {
    return this.render(this.plain, 'sms', templates, language, vars).trim();
  }

  private render(
    engine: Liquid,
    field: TemplateField,
    templates: ConnectionTemplates,
    language: string | null,
    vars: TemplateVariables,
  ): string {
    const source = pickTemplate(templates, language, field);
    try {
      return engine.renderSync(this.parse(engine, source), vars) as string;
    } catch (err) {
      throw new DeliveryError(`template error in ${field}: ${(err as Error).message.split('\n')[0]}`, true);
    }
  }

  private parse(engine: Liquid, source: string): Template[] {
    const key = `${engine === this.html ? 'h' : 'p'}:${source}`;
    let parsed = this.parsed.get(key);
    if (!parsed) {
      parsed = engine.parse(source);
      if (this.parsed.size >= PARSE_CACHE_LIMIT) this.parsed.clear();
      this.parsed.set(key, parsed);
    }
    return parsed;
  }
}

/** The first template for `field` along request language → primary subtag → `default` → built-in. */
export function pickTemplate(templates: ConnectionTemplates, language: string | null, field: TemplateField): string {
  const byKey = new Map(Object.entries(templates ?? {}).map(([key, set]) => [key.toLowerCase(), set]));
  const chain: string[] = [];
  if (language) {
    const tag = language.toLowerCase();
    chain.push(tag);
    const primary = tag.split('-')[0];
    if (primary !== tag) chain.push(primary);
  }
  chain.push('default');
  for (const key of chain) {
    const source = byKey.get(key)?.[field];
    if (typeof source === 'string') return source;
  }
  return DEFAULT_TEMPLATES[field];
}
