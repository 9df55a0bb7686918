import {
  credentials as grpcCredentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type MethodDefinition,
} from "@grpc/grpc-js";
import { isBrokenCircuitError, type IPolicy } from "cockatiel";
import { StatusError } from "@rs/errors";
import { boundByCallDeadline, type Logger } from "@rs/logger";
import { watchService, type Etcd3, type ServiceWatcher } from "@rs/discovery";
import { callLabels, clientMetrics, codeLabel, secondsSince } from "../grpc.metrics.js";
import {
  createBreaker,
  createRetryPolicy,
  isServiceError,
  markRetryable,
  READ_CLASS,
  RETRY_BACKOFF_MAX_MS,
  WRITE_CLASS,
  type BreakerOptions,
  type MethodClass,
} from "./call-policy.js";
import type { CallOpts, GeneratedClientConstructor, PromiseClient, UnaryMethodName } from "./client-types.js";
import { EndpointPool, type Endpoint } from "./endpoint-pool.js";
import { methodIdempotency } from "./method-idempotency.js";

/** Deadline of a call when neither the client nor the call sets one. */
export const DEFAULT_DEADLINE_MS = 2_000;
/** Retries of an idempotent call after its first attempt. */
export const DEFAULT_MAX_RETRIES = 2;
/** A call made while serving another ends this long before that call's deadline, so the server can still answer it. */
const CALLER_RESERVE_MS = 150;

/** Channel settings of every per-instance connection. */
const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  // Notice a peer that vanished without closing the connection (no RST).
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  // grpc-js waits up to 120 s between reconnects by default; an instance that
  // restarts on the same address should be used again within seconds.
  "grpc.max_reconnect_backoff_ms": 5_000,
};

/** Where calls go: the live instances of a service in etcd, or one fixed address. */
export type ClientTarget = { readonly service: string; readonly etcd: Etcd3 } | { readonly address: string };

export interface ServiceClientOptions<C> {
  readonly target: ClientTarget;
  /** Deadline of each call, retries included (default {@link DEFAULT_DEADLINE_MS}). */
  readonly deadlineMs?: number;
  /**
   * Methods safe to repeat; only these are retried (on UNAVAILABLE, on another
   * instance when there is one). Default: the methods the service's .proto
   * marks `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` (method-idempotency.ts).
   */
  readonly idempotentMethods?: readonly UnaryMethodName<C>[];
  /** Retries after the first attempt (default {@link DEFAULT_MAX_RETRIES}). */
  readonly maxRetries?: number;
  /**
   * Breaker class of methods (calls of one class share a breaker; one class's
   * failures never open another's). Default: {@link READ_CLASS} for the
   * methods the .proto marks `NO_SIDE_EFFECTS` (or for `idempotentMethods`,
   * when they are given), {@link WRITE_CLASS} for the rest.
   */
  readonly methodClasses?: Partial<Readonly<Record<UnaryMethodName<C>, MethodClass>>>;
  /** Circuit breaker settings (of every class); `false` turns them off. */
  readonly breaker?: BreakerOptions | false;
  readonly logger: Logger;
  /** Default: insecure (plaintext on a private network). */
  readonly credentials?: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
}

/** A balanced promise client; `close()` stops watching and closes every connection. */
export type ServiceClient<C> = PromiseClient<C> & { close(): Promise<void> };

/**
 * Creates a promise client over a ts-proto generated client type:
 * `createServiceClient(userV1.UserServiceClient, { target: { service: "user", etcd }, ... })`
 * gives `client.getUser(req, { deadlineMs? , metadata? }): Promise<GetUserResponse>`.
 *
 * - Balances round-robin over the live instances (one channel per instance),
 *   preferring connected ones: an instance whose connection is refused stops
 *   getting calls at once, one that leaves etcd gets none after that.
 * - Every call has a deadline, which also bounds its retries.
 * - Only `idempotentMethods` are retried, on UNAVAILABLE, against another
 *   instance when there is one, with backoff, at most `maxRetries` times.
 * - A circuit breaker per target and method class (reads, writes, or the
 *   classes given in `methodClasses`) answers UNAVAILABLE at once while open;
 *   a class whose calls fail (writes, on the callee's Kafka) leaves the
 *   other classes' calls alone (ADR 0013).
 * - Each call counts once in `grpc_client_started_total`,
 *   `grpc_client_handled_total` (by the code it ended with) and
 *   `grpc_client_handling_seconds` (retries included); the breaker's state is
 *   `grpc_client_circuit_breaker_state{grpc_service,target,method_class}`.
 */
export function createServiceClient<C extends Client>(ctor: GeneratedClientConstructor<C>, opts: ServiceClientOptions<C>): ServiceClient<C> {
  const targetName = "address" in opts.target ? opts.target.address : opts.target.service;
  const logger = opts.logger.child({ component: "grpc-client", target: targetName, service: ctor.serviceName });
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const pool = new EndpointPool(opts.credentials ?? grpcCredentials.createInsecure(), { ...DEFAULT_CHANNEL_OPTIONS, ...opts.channelOptions }, logger);

  const methods = Object.entries(ctor.service).filter(([, def]) => !def.requestStream && !def.responseStream);
  const declared = methodIdempotency(ctor.service);
  const idempotent = new Set<string>(opts.idempotentMethods ?? declared.idempotent);
  const reads = opts.idempotentMethods ? idempotent : new Set<string>(declared.reads);
  for (const name of idempotent) {
    if (!methods.some(([m]) => m === name)) throw new Error(`${ctor.serviceName} has no unary method ${name}`);
  }
  for (const name of Object.keys(opts.methodClasses ?? {})) {
    if (!methods.some(([m]) => m === name)) throw new Error(`${ctor.serviceName} has no unary method ${name}`);
  }
  const retryPolicy = createRetryPolicy(opts.maxRetries ?? DEFAULT_MAX_RETRIES);
  const classOf = new Map<string, MethodClass>(
    methods.map(([name]) => [name, (opts.methodClasses as Record<string, MethodClass> | undefined)?.[name] ?? (reads.has(name) ? READ_CLASS : WRITE_CLASS)]),
  );
  // One breaker per class, made up front so every class's state is exported from the start.
  const breakers = new Map<MethodClass, IPolicy>();
  if (opts.breaker !== false) {
    for (const cls of new Set(classOf.values())) {
      breakers.set(cls, createBreaker({ grpc_service: ctor.serviceName, target: targetName, method_class: cls }, opts.breaker ?? {}, logger));
    }
  }
  const metrics = clientMetrics();

  let watcher: ServiceWatcher | undefined;
  if ("address" in opts.target) {
    pool.update([{ id: opts.target.address, address: opts.target.address }]);
  } else {
    const w = watchService(opts.target.etcd, opts.target.service, { logger });
    const sync = () => pool.update(w.instances().map((i) => ({ id: i.instanceId, address: i.address })));
    w.onChange(sync);
    void w.ready().then(sync);
    watcher = w;
  }
  let closed = false;

  /** Before the first listing arrives there is nothing to call yet: wait for it, within the deadline. */
  const awaitFirstListing = async (deadline: number) => {
    if (!watcher || pool.size() > 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([watcher.ready(), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
    clearTimeout(timer);
  };

  const send = <Req, Res>(endpoint: Endpoint, def: MethodDefinition<Req, Res>, request: Req, metadata: Metadata, deadline: number) =>
    new Promise<Res>((resolve, reject) => {
      endpoint.client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata.clone(), { deadline }, (err, response) =>
        err ? reject(err) : resolve(response as Res),
      );
    });

  const attempt = async <Req, Res>(
    def: MethodDefinition<Req, Res>,
    request: Req,
    metadata: Metadata,
    deadline: number,
    tried: Set<string>,
    retryableMethod: boolean,
  ): Promise<Res> => {
    if (closed) throw new StatusError(status.UNAVAILABLE, `client of ${targetName} is closed`);
    await awaitFirstListing(deadline);
    if (Date.now() >= deadline) throw new StatusError(status.DEADLINE_EXCEEDED, `deadline exceeded calling ${targetName}`);
    const endpoint = pool.pick(tried);
    if (!endpoint) throw new StatusError(status.UNAVAILABLE, `no live instance of ${targetName}`);
    tried.add(endpoint.id);
    try {
      const response = await send(endpoint, def, request, metadata, deadline);
      pool.reportSuccess(endpoint);
      return response;
    } catch (err) {
      if ((err as { code?: unknown }).code === status.UNAVAILABLE) {
        pool.reportUnavailable(endpoint);
        // Retry only while a backoff pause still leaves time for another attempt.
        if (retryableMethod && deadline - Date.now() > RETRY_BACKOFF_MAX_MS) markRetryable(err as object);
      }
      throw err;
    }
  };

  /** One logical call: counted once in the `grpc_client_*` metrics, however many attempts it takes. */
  const invoke = async (name: string, def: MethodDefinition<unknown, unknown>, request: unknown, callOpts?: CallOpts) => {
    const started = process.hrtime.bigint();
    const labels = callLabels(def.path);
    metrics.started.inc(labels);
    const done = (code: status) => {
      metrics.handled.inc({ ...labels, grpc_code: codeLabel(code) });
      metrics.handling.observe(labels, secondsSince(started));
    };
    try {
      const response = await execute(name, def, request, callOpts);
      done(status.OK);
      return response;
    } catch (err) {
      done(isServiceError(err) ? err.code : status.UNKNOWN);
      throw err;
    }
  };

  /** The attempts of one call: retries of idempotent methods, all under the breaker. */
  const execute = async (name: string, def: MethodDefinition<unknown, unknown>, request: unknown, callOpts?: CallOpts) => {
    // Inside a server call, the call's own deadline (less a reserve to answer) bounds this one too.
    const deadline = Date.now() + boundByCallDeadline(callOpts?.deadlineMs ?? deadlineMs, CALLER_RESERVE_MS);
    const metadata = callOpts?.metadata ?? new Metadata();
    const tried = new Set<string>();
    const isIdempotent = idempotent.has(name);
    // A retry that runs out of time says nothing new: the callee was unavailable.
    let unavailable: unknown;
    const once = () =>
      attempt(def, request, metadata, deadline, tried, isIdempotent).catch((err: unknown) => {
        const code = (err as { code?: unknown }).code;
        if (code === status.UNAVAILABLE) unavailable = err;
        else if (code === status.DEADLINE_EXCEEDED && unavailable !== undefined) throw unavailable;
        throw err;
      });
    const run = isIdempotent ? () => retryPolicy.execute(once) : once;
    const cls = classOf.get(name) ?? WRITE_CLASS;
    const breaker = breakers.get(cls);
    try {
      return await (breaker ? breaker.execute(run) : run());
    } catch (err) {
      if (isBrokenCircuitError(err)) throw new StatusError(status.UNAVAILABLE, `circuit open for ${cls} calls to ${targetName}`);
      throw err;
    }
  };

  const client: Record<string, unknown> = {};
  for (const [name, def] of methods) {
    client[name] = (request: unknown, callOpts?: CallOpts) => invoke(name, def, request, callOpts);
  }
  client.close = async () => {
    closed = true;
    await watcher?.close();
    pool.close();
  };
  // The methods were built from ctor.service, which is what UnaryMethodName reads from C.
  return client as ServiceClient<C>;
}
