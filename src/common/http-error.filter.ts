import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, DEPENDENCY_RETRY_AFTER_SECONDS } from './api-error';
import { httpErrors } from './auth0-errors';
import { isDependencyUnavailable } from './dependency-errors';
import { OutageLog } from './outage-log';
import { noteApiError } from '../observability/http-observability';

type FastifyLikeError = { statusCode?: number; code?: string };

/** Maps anything thrown (by Nest, Fastify's body parsing, or our code) to Auth0's error body. Never leaks a stack. */
export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  const status =
    exception instanceof HttpException ? exception.getStatus() : (exception as FastifyLikeError)?.statusCode;
  if (status === 413) return httpErrors.bodyTooLarge();
  if (status === 415) return httpErrors.unsupportedContentType();
  if (exception instanceof HttpException) {
    if (status === 404) return httpErrors.notFound();
    if (status === 429) return httpErrors.tooManyRequests();
    if (status === 405) return httpErrors.methodNotAllowed();
    if (status !== undefined && status < 500) return httpErrors.clientError(status, exception.message);
  }
  if (isDependencyUnavailable(exception))
    return httpErrors.temporarilyUnavailable(
      exception instanceof Error ? exception.message : String(exception),
      DEPENDENCY_RETRY_AFTER_SECONDS,
    );
  const fastifyError = exception as FastifyLikeError;
  if (typeof status === 'number' && status >= 400 && status < 500) return httpErrors.malformedBody(fastifyError.code);
  return httpErrors.serverError(exception instanceof Error ? exception.stack : String(exception));
}

export function sendApiError(reply: FastifyReply, error: ApiError): void {
  noteApiError(reply.request, error);
  void reply.status(error.status).headers(error.headers).type('application/json; charset=utf-8').send(error.toBody());
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');
  /** 503s for an unavailable database or Redis: one line when they start and one when they stop, not one each. */
  private readonly unavailable = new OutageLog(this.logger, 'A dependency (503 temporarily_unavailable)', 5000);

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = toApiError(exception);
    if (error.status === 503) this.unavailable.failed(error.detail ?? error.description);
    else logApiError(this.logger, error, host.switchToHttp().getRequest<FastifyRequest>());
    sendApiError(host.switchToHttp().getResponse<FastifyReply>(), error);
  }
}

export function logApiError(logger: Logger, error: ApiError, request: FastifyRequest): void {
  const where = `${request.method} ${request.url.split('?')[0]}`;
  if (error.status >= 500) logger.error(`${where} -> ${error.status} ${error.error}: ${error.detail ?? ''}`);
  else if (error.detail) logger.debug(`${where} -> ${error.status} ${error.error} (${error.detail})`);
}
