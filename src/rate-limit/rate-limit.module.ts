import { Module } from '@nestjs/common';
import { OtpAttemptLimiter } from './otp-attempt.limiter';
import { SlidingWindowStore } from './sliding-window.store';
import { SmsConversionBreaker } from './sms-conversion.breaker';
import { SmsDestinationPolicy } from './sms-destination.policy';
import { ForwardedIpLimitGuard, StartIpCounter, StartIpLimitGuard } from './start-ip-limit.guard';
import { StartLimiter } from './start.limiter';

/** Abuse protection: Redis-backed limits shared by every API replica (README "Abuse protection"). */
@Module({
  providers: [SlidingWindowStore, SmsDestinationPolicy, SmsConversionBreaker, StartIpCounter, StartIpLimitGuard, ForwardedIpLimitGuard, StartLimiter, OtpAttemptLimiter],
  // The counter is exported because a guard named in @UseGuards is instantiated in the controller's module.
  exports: [StartIpCounter, StartIpLimitGuard, ForwardedIpLimitGuard, StartLimiter, OtpAttemptLimiter, SmsConversionBreaker],
})
export class RateLimitModule {}
