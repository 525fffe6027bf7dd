import { Module } from '@nestjs/common';
import { OtpAttemptLimiter } from './otp-attempt.limiter';
import { SlidingWindowStore } from './sliding-window.store';
import { SmsConversionBreaker } from './sms-conversion.breaker';
import { SmsDestinationPolicy } from './sms-destination.policy';
import { StartIpLimitGuard } from './start-ip-limit.guard';
import { StartLimiter } from './start.limiter';

/** Abuse protection: Redis-backed limits shared by every API replica (README "Abuse protection"). */
@Module({
  providers: [SlidingWindowStore, SmsDestinationPolicy, SmsConversionBreaker, StartIpLimitGuard, StartLimiter, OtpAttemptLimiter],
  // The store is exported because a guard named in @UseGuards is instantiated in the controller's module.
  exports: [SlidingWindowStore, StartIpLimitGuard, StartLimiter, OtpAttemptLimiter, SmsConversionBreaker],
})
export class RateLimitModule {}
