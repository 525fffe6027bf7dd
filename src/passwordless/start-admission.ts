import { Injectable } from '@nestjs/common';
import { httpErrors } from '../common/auth0-errors';
import { AppConfig } from '../config/app-config';
import { DeliveryBacklogMonitor } from '../delivery/delivery-backlog.monitor';
import type { QueueName } from '../delivery/delivery.constants';

/** Retry-After while delivery catches up: long enough for a backlog to drain, short for a person waiting. */
const BACKLOG_RETRY_AFTER_SECONDS = 30;
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Back-pressure on POST /passwordless/start: a start is refused with 503 (Retry-After) rather than accepted when its
 * message could not be delivered in time (DeliveryBacklogMonitor), or when this process already holds
 * START_MAX_IN_FLIGHT starts (requests would otherwise queue in memory without bound).
 */
@Injectable()
export class StartAdmission {
  private inFlight = 0;

  constructor(
    private readonly backlog: DeliveryBacklogMonitor,
    private readonly config: AppConfig,
  ) {}

  /** Throws 503 or returns the function that ends this start's admission (call it once, when it is answered). */
  enter(queue: QueueName): () => void {
    const max = this.config.delivery.maxStartsInFlight;
    if (max > 0 && this.inFlight >= max)
      throw httpErrors.temporarilyUnavailable(`${this.inFlight} starts in flight`, IN_FLIGHT_RETRY_AFTER_SECONDS);
    if (this.backlog.shedding(queue))
      throw httpErrors.temporarilyUnavailable(`${queue} delivery is behind`, BACKLOG_RETRY_AFTER_SECONDS);
    this.inFlight++;
    return () => this.inFlight--;
  }
}
