/**
 * Typed gRPC status errors. Use cases throw these; the gRPC server helper sends
 * them as they are, answers a store outage UNAVAILABLE and turns anything else
 * into INTERNAL, never with its text.
 */
import { status, Metadata, type StatusObject } from "@grpc/grpc-js";
import { isStoreOutage, STORE_OUTAGE_DETAILS } from "./store-outage.js";

export { isStoreOutage, STORE_OUTAGE_DETAILS } from "./store-outage.js";

export { status as Code } from "@grpc/grpc-js";

/** An error that carries the gRPC status code to answer with. */
export class StatusError extends Error implements Partial<StatusObject> {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata;

  constructor(code: status, message: string, metadata: Metadata = new Metadata()) {
    super(message);
    this.name = "StatusError";
    this.code = code;
    this.details = message;
    this.metadata = metadata;
  }
}

export const invalidArgument = (msg: string) => new StatusError(status.INVALID_ARGUMENT, msg);
export const notFound = (msg: string) => new StatusError(status.NOT_FOUND, msg);
export const alreadyExists = (msg: string) => new StatusError(status.ALREADY_EXISTS, msg);
export const permissionDenied = (msg: string) => new StatusError(status.PERMISSION_DENIED, msg);
export const unauthenticated = (msg: string) => new StatusError(status.UNAUTHENTICATED, msg);
export const failedPrecondition = (msg: string) => new StatusError(status.FAILED_PRECONDITION, msg);
export const resourceExhausted = (msg: string) => new StatusError(status.RESOURCE_EXHAUSTED, msg);
export const unavailable = (msg: string) => new StatusError(status.UNAVAILABLE, msg);
export const unimplemented = (msg: string) => new StatusError(status.UNIMPLEMENTED, msg);

/** True for errors shaped like a gRPC status (ours or grpc-js's own). */
export function isStatusError(err: unknown): err is { code: status; details?: string; message: string } {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "number" && (err as { code: number }).code in status;
}

/**
 * Turns any thrown value into the status sent to a client. Known status errors
 * keep their code and message; a store outage ({@link isStoreOutage}) becomes
 * UNAVAILABLE and anything else INTERNAL, each with a fixed text, so no stack,
 * SQL or host name leaks out.
 */
export function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof StatusError) return { code: err.code, details: err.details };
  if (isStatusError(err) && err.code !== status.OK && err.code !== status.UNKNOWN && err.code !== status.INTERNAL) {
    return { code: err.code, details: err.details ?? err.message };
  }
  if (isStoreOutage(err)) return { code: status.UNAVAILABLE, details: STORE_OUTAGE_DETAILS };
  return { code: status.INTERNAL, details: "internal error" };
}
