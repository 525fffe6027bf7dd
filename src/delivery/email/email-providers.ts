import type { DeliveryProviderDefinition } from '../delivery-provider';
import type { EmailProvider } from './email.provider';
import { logEmail } from './log-email.provider';
import { smtpEmail } from './smtp-email.provider';

/** The email providers EMAIL_PROVIDER may name: one line each. */
export const EMAIL_PROVIDERS: readonly DeliveryProviderDefinition<EmailProvider, object>[] = [smtpEmail, logEmail];
