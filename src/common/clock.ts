import { Injectable } from '@nestjs/common';

/** The only source of "now" in services, so expiry can be tested without sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
