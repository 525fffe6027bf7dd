import type { StartIpCharge } from '../rate-limit/start-ip-limit.guard';

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
  /** The start's per-IP limit, charged with its other limits; its IP is the end user's (see StartIpCharge). */
  ipCharge: StartIpCharge;
  requestLanguage: string | null;
}
