import type { DeliveryProviderDefinition } from '../delivery-provider';
import { httpGatewaySms } from './http-gateway-sms.provider';
import { logSms } from './log-sms.provider';
import type { SmsProvider } from './sms.provider';
import { twilioSms } from './twilio-sms.provider';

/** The SMS providers SMS_PROVIDER may name: one line each. */
export const SMS_PROVIDERS: readonly DeliveryProviderDefinition<SmsProvider, object>[] = [
  twilioSms,
  httpGatewaySms,
  logSms,
];
