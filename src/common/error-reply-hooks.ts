import type { FastifyRequest } from 'fastify';
import type { ApiError } from './api-error';

/** Work a request left pending that must be done before an error answer goes out; it may name another error to send. */
export type ErrorReplyHook = () => Promise<ApiError | undefined>;

const HOOK = Symbol('errorReplyHook');
type HookedRequest = FastifyRequest & { [HOOK]?: ErrorReplyHook };

/** Registers the request's hook (one per request), run by HttpErrorFilter if the request ends in an error. */
export function onErrorReply(request: FastifyRequest, hook: ErrorReplyHook): void {
  (request as HookedRequest)[HOOK] = hook;
}

export function errorReplyHookOf(request: FastifyRequest): ErrorReplyHook | undefined {
  return (request as HookedRequest)[HOOK];
}
