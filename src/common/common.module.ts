import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { RandomSource } from './random.source';
import { LookupCaches } from './lookup-caches';

/** Process-wide adapters for the clock and randomness (deterministic under test), and the lookup caches. */
@Global()
@Module({ providers: [Clock, RandomSource, LookupCaches], exports: [Clock, RandomSource, LookupCaches] })
export class CommonModule {}
