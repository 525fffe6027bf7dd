import { Module } from '@nestjs/common';
import { RetentionJob } from './retention.job';

/** Bounded storage: the retention pass, run by the relay role (RelayProcessModule, or a worker running the relay). */
@Module({ providers: [RetentionJob], exports: [RetentionJob] })
export class RetentionModule {}
