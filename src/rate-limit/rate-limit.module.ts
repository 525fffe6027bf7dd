import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { OtpAttemptLimiter } from './otp-attempt.limiter';
import { SlidingWindowStore } from './sliding-window.store';
import { SlidingWindowThrottlerStorage } from './sliding-window.throttler-storage';
import { SmsConversionBreaker } from './sms-conversion.breaker';
import { SmsDestinationPolicy } from './sms-destination.policy';
import { ForwardedIpLimitGuard, StartIpCounter, StartIpLimitGuard } from './start-ip-limit.guard';
import { StartLimiter } from './start.limiter';

/** The Redis sliding window, shared by the throttler's storage and the limiters. */
@Module({
  providers: [SlidingWindowStore, SlidingWindowThrottlerStorage],
  exports: [SlidingWindowStore, SlidingWindowThrottlerStorage],
})
class RateLimitStorageModule {}

/** Abuse protection: Redis-backed limits shared by every API replica (docs/operations.md). */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [AppConfig, SlidingWindowThrottlerStorage],
      // Auth0's per-IP limit on /passwordless/start (default 50/hour); its charge (StartIpCounter) sets the headers.
      useFactory: (config: AppConfig, storage: SlidingWindowThrottlerStorage) => ({
        throttlers: [
          { name: 'default', limit: config.rateLimit.defaults.startPerIp, ttl: config.rateLimit.startWindowMs },
        ],
        storage,
        setHeaders: false,
      }),
    }),
    RateLimitStorageModule,
  ],
  providers: [
    SmsDestinationPolicy,
    SmsConversionBreaker,
    StartIpCounter,
    StartIpLimitGuard,
    ForwardedIpLimitGuard,
    StartLimiter,
    OtpAttemptLimiter,
  ],
  // The counter is exported because a guard named in @UseGuards is instantiated in the controller's module.
  exports: [
    ThrottlerModule,
    StartIpCounter,
    StartIpLimitGuard,
    ForwardedIpLimitGuard,
    StartLimiter,
    OtpAttemptLimiter,
    SmsConversionBreaker,
  ],
})
export class RateLimitModule {}
