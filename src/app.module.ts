import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthorizeModule } from './authorize/authorize.module';
import { CommonModule } from './common/common.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { ConfigModule } from './config/config.module';
import { CorsModule } from './cors/cors.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LogoutModule } from './logout/logout.module';
import { OAuthModule } from './oauth/oauth.module';
import { PasswordlessModule } from './passwordless/passwordless.module';
import { RedisModule } from './redis/redis.module';

/** The API process. Workers are assembled separately (src/worker.ts). */
@Module({
  imports: [
    ConfigModule,
    CommonModule,
    DatabaseModule.forRoot(),
    RedisModule,
    HealthModule,
    PasswordlessModule,
    OAuthModule,
    CorsModule,
    LogoutModule,
    AuthorizeModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
})
export class AppModule {}
