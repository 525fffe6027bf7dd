import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { OtpAttemptLimiter } from './otp-attempt.limiter';
import { SlidingWindowStore } from './sliding-window.store';
import { SlidingWindowThrottlerStorage } from './sliding-window.throttler-storage';
import { SmsConversionBreaker } from './sms-conversion.breaker';
import { SmsDestinationPolicy } from './sms-destination.policy';
import { StartIpLimiter } from './start-ip.limiter';
import { StartLimiter } from './start.limiter';
import { VerificationModule } from '../verification/verification.module';

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
      useFactory: (config: AppConfig, storage: SlidingWindowThrottlerStorage) => ({
        throttlers: [
          { name: 'default', limit: config.rateLimit.defaults.startPerIp, ttl: config.rateLimit.startWindowMs },
        ],
        storage,
        setHeaders: false,
      }),
    }),
    RateLimitStorageModule,
    VerificationModule,
  ],
  providers: [SmsDestinationPolicy, SmsConversionBreaker, StartIpLimiter, StartLimiter, OtpAttemptLimiter],
  exports: [ThrottlerModule, StartIpLimiter, StartLimiter, OtpAttemptLimiter, SmsConversionBreaker],
})
export class RateLimitModule {}
