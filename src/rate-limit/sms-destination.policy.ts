import { Injectable } from '@nestjs/common';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppConfig } from '../config/app-config';
import type { ConnectionEntity } from '../verification/connection.entity';
import type { LimitRule } from './sliding-window.store';
import { startErrors } from '../common/auth0-errors';

const HOUR_MS = 3_600_000;

/** Where an SMS goes, at the two granularities that pumping budgets and the breaker watch. */
export interface SmsDestination {
  /** Country calling code without `+`: `1`, `44`. */
  callingCode: string;
  /** `+` calling code and the first SMS_PREFIX_DIGITS national digits: `+1202`, `+44790`. */
  prefix: string;
}

/**
 * SMS pumping (toll fraud) sends codes to premium ranges the attacker is paid for. Sending only to allowed calling
 * codes, with hourly budgets per country and per number prefix, caps what one campaign can cost (Stytch and Clerk
 * ship country allowlists too).
 */
@Injectable()
export class SmsDestinationPolicy {
  constructor(private readonly config: AppConfig) {}

  /** Where `phone` (E.164, already validated) goes; throws Auth0-style 400 if the connection may not send there. */
  allowedDestination(connection: ConnectionEntity, phone: string): SmsDestination {
    const destination = this.destinationOf(phone);
    const allowed = connection.allowedCallingCodes ?? this.config.smsGuard.allowedCallingCodes;
    if (allowed !== '*' && !allowed.includes(destination.callingCode)) {
      throw startErrors.callingCodeNotAllowed(destination.callingCode);
    }
    return destination;
  }

  destinationOf(phone: string): SmsDestination {
    const parsed = parsePhoneNumberFromString(phone);
    const callingCode = parsed?.countryCallingCode ?? 'unknown';
    const national = parsed?.nationalNumber ?? '';
    return { callingCode, prefix: `+${callingCode}${national.slice(0, this.config.smsGuard.prefixDigits)}` };
  }

  budgetRules(destination: SmsDestination): LimitRule[] {
    return [
      {
        name: 'sms-country',
        key: `sms-country:${destination.callingCode}`,
        limit: this.config.smsGuard.countryBudgetPerHour,
        windowMs: HOUR_MS,
      },
      {
        name: 'sms-prefix',
        key: `sms-prefix:${destination.prefix}`,
        limit: this.config.smsGuard.prefixBudgetPerHour,
        windowMs: HOUR_MS,
      },
    ];
  }
}
