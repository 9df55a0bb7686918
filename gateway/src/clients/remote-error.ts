import { Code, StatusError, isStatusError } from "@rs/errors";

/**
 * Codes whose message a service wrote for its callers (a use case's refusal):
 * passed on as they are. Every other code comes from the transport or from a
 * failure inside the service, and its text may name hosts, ports or internals.
 */
const PASSED_ON: ReadonlySet<Code> = new Set([
  Code.INVALID_ARGUMENT,
  Code.NOT_FOUND,
  Code.ALREADY_EXISTS,
  Code.PERMISSION_DENIED,
  Code.UNAUTHENTICATED,
  Code.FAILED_PRECONDITION,
  Code.OUT_OF_RANGE,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
]);

const withCause = (e: StatusError, cause: unknown): StatusError => Object.assign(e, { cause });

/**
 * Turns whatever a call to `service` threw into a {@link StatusError} that is
 * safe to show a client: refusals keep their code and text; UNAVAILABLE and
 * DEADLINE_EXCEEDED keep their code with a fixed text; anything else becomes
 * INTERNAL. The original stays as `cause`, for the error handler to log with
 * the request id.
 */
export function fromRemote(err: unknown, service: string): StatusError {
  if (isStatusError(err) && PASSED_ON.has(err.code)) return new StatusError(err.code, err.details ?? err.message);
  if (isStatusError(err) && err.code === Code.UNAVAILABLE)
    return withCause(new StatusError(Code.UNAVAILABLE, `${service} service unavailable, try again later`), err);
  if (isStatusError(err) && err.code === Code.DEADLINE_EXCEEDED)
    return withCause(new StatusError(Code.DEADLINE_EXCEEDED, `${service} service did not answer in time`), err);
  return withCause(new StatusError(Code.INTERNAL, "internal error"), err);
}

/**
 * Wraps every method of a promise client so that what it throws passes through
 * {@link fromRemote}: the one place where service errors become client errors.
 */
export function guardClient<T extends object>(client: T, service: string): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(client)) {
    if (typeof fn !== "function") continue;
    guarded[name] =
      name === "close"
        ? fn
        : (...args: unknown[]) =>
            (fn as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
              throw fromRemote(err, service);
            });
  }
  return guarded as T;
}
