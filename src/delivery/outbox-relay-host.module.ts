import { Module } from '@nestjs/common';
import { DEFAULT_OUTBOX_RELAY_THREAD_SCRIPT, OUTBOX_RELAY_THREAD_SCRIPT, OutboxRelayHost } from './outbox-relay.host';

/** API side of delivery: wakes the outbox relay, which runs in a worker thread (see OutboxRelayHost). */
@Module({
  providers: [OutboxRelayHost, { provide: OUTBOX_RELAY_THREAD_SCRIPT, useValue: DEFAULT_OUTBOX_RELAY_THREAD_SCRIPT }],
  exports: [OutboxRelayHost],
})
export class OutboxRelayHostModule {}
