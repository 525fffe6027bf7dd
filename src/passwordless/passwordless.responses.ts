import type { PendingIpCharge } from '../rate-limit/start-ip-limit.guard';

export interface EmailStartResponse {
  _id: string;
  email: string;
  email_verified: false;
}

export interface SmsStartResponse {
  _id: string;
  phone_number: string;
  phone_verified: false;
  request_language: string | null;
}

export type StartResponse = EmailStartResponse | SmsStartResponse;

export interface RequestMeta {
  /** The start's per-IP charge (made with its other limits); its `ip` is the end user's. */
  ipCharge: PendingIpCharge;
  requestLanguage: string | null;
}
