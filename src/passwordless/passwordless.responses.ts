import type { IpAdmission } from '../rate-limit/start-ip-limit.guard';

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
  /** The end user's IP and its per-IP limit decision, possibly still in flight. */
  ipAdmission: IpAdmission;
  requestLanguage: string | null;
}
