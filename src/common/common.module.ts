import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { RandomSource } from './random.source';

/** Process-wide adapters for the clock and randomness, so services stay deterministic under test. */
@Global()
@Module({ providers: [Clock, RandomSource], exports: [Clock, RandomSource] })
export class CommonModule {}
