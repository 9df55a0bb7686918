import { Client, connectivityState, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import type { Logger } from "@rs/logger";
import { requestIdInterceptor } from "../request-id.js";
import { pickEndpoint, type EndpointHealth } from "./endpoint-picker.js";

/** After answering UNAVAILABLE an endpoint is avoided this long (unless nothing better is left). */
export const EJECT_AFTER_UNAVAILABLE_MS = 2_000;

/** One instance to call. */
export interface EndpointSpec {
  readonly id: string;
  readonly address: string;
}

/** A connection to one instance. */
export interface Endpoint extends EndpointSpec {
  readonly client: Client;
}

interface Slot extends Endpoint {
  ejectedUntil: number;
}

/**
 * One grpc-js channel per instance, and the choice of which one takes the
 * next call (see {@link pickEndpoint}). Channels of instances that leave are
 * closed: calls already running on them finish, new ones go elsewhere.
 */
export class EndpointPool {
  private slots: Slot[] = [];
  private turn = 0;

  constructor(
    private readonly credentials: ChannelCredentials,
    private readonly channelOptions: ChannelOptions,
    private readonly logger: Logger,
  ) {}

  /** Replaces the set of instances; unchanged ones keep their connection. */
  update(specs: readonly EndpointSpec[]): void {
    const byId = new Map(this.slots.map((s) => [s.id, s]));
    const next: Slot[] = [];
    for (const spec of specs) {
      const existing = byId.get(spec.id);
      if (existing && existing.address === spec.address) {
        next.push(existing);
        byId.delete(spec.id);
        continue;
      }
      const client = new Client(spec.address, this.credentials, { ...this.channelOptions, interceptors: [requestIdInterceptor] });
      // Connect now, so the first call does not pay for the handshake.
      client.getChannel().getConnectivityState(true);
      next.push({ ...spec, client, ejectedUntil: 0 });
    }
    for (const gone of byId.values()) gone.client.close();
    const before = this.slots.map((s) => s.id).join(",");
    this.slots = next;
    const after = next.map((s) => s.id).join(",");
    if (before !== after) this.logger.info({ instances: next.map((s) => `${s.id}@${s.address}`) }, "endpoints changed");
  }

  size(): number {
    return this.slots.length;
  }

  /** The endpoint for the next attempt, avoiding `tried` when possible; undefined if there is none. */
  pick(tried: ReadonlySet<string>): Endpoint | undefined {
    const now = Date.now();
    const candidates = this.slots.map((slot) => ({ id: slot.id, health: this.health(slot, now) }));
    const index = pickEndpoint(candidates, tried, this.turn++);
    return index < 0 ? undefined : this.slots[index];
  }

  /** The endpoint answered UNAVAILABLE (or could not be reached): avoid it for a while. */
  reportUnavailable(endpoint: Endpoint): void {
    const slot = this.slots.find((s) => s.id === endpoint.id);
    if (slot) slot.ejectedUntil = Date.now() + EJECT_AFTER_UNAVAILABLE_MS;
  }

  /** The endpoint answered: it is usable again. */
  reportSuccess(endpoint: Endpoint): void {
    const slot = this.slots.find((s) => s.id === endpoint.id);
    if (slot) slot.ejectedUntil = 0;
  }

  close(): void {
    for (const slot of this.slots) slot.client.close();
    this.slots = [];
  }

  private health(slot: Slot, now: number): EndpointHealth {
    if (slot.ejectedUntil > now) return "failing";
    // `true`: an idle channel (its connection dropped, or it idled out) starts reconnecting.
    switch (slot.client.getChannel().getConnectivityState(true)) {
      case connectivityState.READY:
        return "ready";
      case connectivityState.IDLE:
      case connectivityState.CONNECTING:
        return "connecting";
      default:
        return "failing";
    }
  }
}
