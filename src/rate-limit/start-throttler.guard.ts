import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/** Per-IP limit on POST /passwordless/start (Auth0's default: 50 requests per hour per IP). */
@Injectable()
export class StartThrottlerGuard extends ThrottlerGuard {}
