import { Injectable } from '@nestjs/common';
import { DeliveryReconciler } from './delivery.reconciler';
import { OutboxListener } from './outbox.listener';
import { OutboxRelay } from './outbox.relay';

/** A loop failing for longer than this makes the role unhealthy (single failures are retried quietly). */
const UNHEALTHY_AFTER_MS = 10_000;

export interface RelayHealth {
  ok: boolean;
  /** Why not, naming the failing loop. */
  problems: string[];
}

/** Health of the relay role's loops, for the probe endpoint of the process that runs them. */
@Injectable()
export class RelayStatus {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly listener: OutboxListener,
    private readonly reconciler: DeliveryReconciler,
  ) {}

  check(now = Date.now()): RelayHealth {
    const problems: string[] = [];
    const failing = (since: number | undefined) => since !== undefined && now - since >= UNHEALTHY_AFTER_MS;
    if (failing(this.relay.failingSince)) problems.push('outbox relay passes are failing');
    if (failing(this.listener.failingSince)) problems.push('outbox notifications (LISTEN) are down');
    if (failing(this.reconciler.failingSince)) problems.push('delivery reconciliation is failing');
    return { ok: problems.length === 0, problems };
  }
}
