import { Transform } from 'class-transformer';
import { IsInt, IsNumber, Matches, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt, toNumber } from '../env-transforms';

/**
 * Where SMS may go unless a connection lists its own codes: North America and low-fraud-risk European and Pacific
 * markets. Premium-rate pumping targets other ranges first; widen the list deliberately
 * (docs/operations.md, "SMS pumping").
 */
const DEFAULT_SMS_CALLING_CODES = '1,31,32,33,34,39,41,43,44,45,46,47,49,61,64,81,351,353,358';

class SmsGuardVars {
  @Matches(/^(\*|\d{1,3}(,\d{1,3})*)$/, { message: '* or a comma-separated list of calling codes' })
  SMS_ALLOWED_CALLING_CODES = DEFAULT_SMS_CALLING_CODES;
  @Transform(toInt) @IsInt() @Min(1) SMS_COUNTRY_BUDGET_PER_HOUR = 1000;
  @Transform(toInt) @IsInt() @Min(1) SMS_PREFIX_BUDGET_PER_HOUR = 100;
  @Transform(toInt) @IsInt() @Min(1) @Max(8) SMS_PREFIX_DIGITS = 3;
  @Transform(toInt) @IsInt() @Min(1000) SMS_BREAKER_WINDOW_MS = 3_600_000;
  @Transform(toInt) @IsInt() @Min(1) SMS_BREAKER_MIN_SENDS = 20;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SMS_BREAKER_MIN_CONVERSION = 0.2;
  @Transform(toInt) @IsInt() @Min(1000) SMS_BREAKER_COOLOFF_MS = 1_800_000;
  /** Sends per IP per breaker window that count toward the breaker: one IP alone cannot trip a country. */
  @Transform(toInt) @IsInt() @Min(1) SMS_BREAKER_SENDS_PER_IP = 3;
}

/** SMS pumping guards (docs/operations.md, "Rate limits and abuse protection"). */
export interface SmsGuardConfig {
  readonly smsGuard: {
    /** `*` allows every calling code. */
    allowedCallingCodes: string[] | '*';
    countryBudgetPerHour: number;
    prefixBudgetPerHour: number;
    /** National digits after the calling code that form a "prefix" (3: +1 202…, +44 790…). */
    prefixDigits: number;
    breaker: { windowMs: number; minSends: number; minConversion: number; coolOffMs: number; sendsPerIp: number };
  };
}

export const smsGuardSection = configSection({
  vars: SmsGuardVars,
  build: (vars): SmsGuardConfig => ({
    smsGuard: {
      allowedCallingCodes: vars.SMS_ALLOWED_CALLING_CODES === '*' ? '*' : vars.SMS_ALLOWED_CALLING_CODES.split(','),
      countryBudgetPerHour: vars.SMS_COUNTRY_BUDGET_PER_HOUR,
      prefixBudgetPerHour: vars.SMS_PREFIX_BUDGET_PER_HOUR,
      prefixDigits: vars.SMS_PREFIX_DIGITS,
      breaker: {
        windowMs: vars.SMS_BREAKER_WINDOW_MS,
        minSends: vars.SMS_BREAKER_MIN_SENDS,
        minConversion: vars.SMS_BREAKER_MIN_CONVERSION,
        coolOffMs: vars.SMS_BREAKER_COOLOFF_MS,
        sendsPerIp: vars.SMS_BREAKER_SENDS_PER_IP,
      },
    },
  }),
});
