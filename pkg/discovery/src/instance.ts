/** One live instance of a service, as registered in etcd. */
export interface Instance {
  /** Unique within the service; the last segment of the etcd key. */
  readonly instanceId: string;
  /** `host:port` other processes dial. */
  readonly address: string;
  /** ISO-8601 time the instance registered first. */
  readonly startedAt: string;
}

/** Root of every registration: `/services/<service>/<instanceId>`. */
export const SERVICES_ROOT = "/services/";

/** The etcd key prefix under which the instances of `service` live (ends with `/`). */
export function servicePrefix(service: string): string {
  assertSegment("service", service);
  return `${SERVICES_ROOT}${service}/`;
}

/** The etcd key of one instance. */
export function instanceKey(service: string, instanceId: string): string {
  assertSegment("instanceId", instanceId);
  return `${servicePrefix(service)}${instanceId}`;
}

function assertSegment(what: string, value: string): void {
  if (value.length === 0 || value.includes("/")) {
    throw new Error(`${what} must be a non-empty string without "/", got ${JSON.stringify(value)}`);
  }
}

/** The value stored under an instance key. */
export function encodeInstance(instance: Instance): string {
  return JSON.stringify({ address: instance.address, instanceId: instance.instanceId, startedAt: instance.startedAt });
}

/**
 * Parses a registration value. Returns undefined for anything malformed, so
 * one bad key written by hand cannot take the whole list down.
 */
export function decodeInstance(key: string, value: string): Instance | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { address, instanceId, startedAt } = parsed as Record<string, unknown>;
  if (typeof address !== "string" || !/^[^\s/]+:\d+$/.test(address)) return undefined;
  const idFromKey = key.slice(key.lastIndexOf("/") + 1);
  if (idFromKey.length === 0) return undefined;
  return {
    // The key is authoritative: it is what a delete event names.
    instanceId: typeof instanceId === "string" && instanceId === idFromKey ? instanceId : idFromKey,
    address,
    startedAt: typeof startedAt === "string" ? startedAt : "",
  };
}
