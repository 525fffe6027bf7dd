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
  /** The end user's IP (see endUserIp). */
  ip: string;
  requestLanguage: string | null;
}
