import type { CallOptions, ChannelCredentials, Client, ClientOptions, ClientUnaryCall, Metadata, ServiceDefinition, ServiceError } from "@grpc/grpc-js";

/**
 * The widest overload ts-proto generates for a unary method. With overloads,
 * `infer` reads the last signature, which is this one.
 */
type GeneratedUnary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

type OwnKeys<C> = Exclude<keyof C, keyof Client>;

/** Names of the unary methods of a generated client (e.g. `"getUser" | "batchGetUsers"`). */
export type UnaryMethodName<C> = {
  [K in OwnKeys<C>]: C[K] extends GeneratedUnary<infer _Req, infer _Res> ? K : never;
}[OwnKeys<C>] &
  string;

/** The request type of a generated unary method. */
export type RequestOf<F> = F extends GeneratedUnary<infer Req, infer _Res> ? Req : never;
/** The response type of a generated unary method. */
export type ResponseOf<F> = F extends GeneratedUnary<infer _Req, infer Res> ? Res : never;

/** Per-call options. */
export interface CallOpts {
  /** Deadline of this call, retries included (default: the client's `deadlineMs`). */
  readonly deadlineMs?: number;
  readonly metadata?: Metadata;
}

/** A promise-returning client with the methods of the generated client `C`. */
export type PromiseClient<C> = {
  readonly [K in UnaryMethodName<C>]: (request: RequestOf<C[K]>, opts?: CallOpts) => Promise<ResponseOf<C[K]>>;
};

/** The constructor ts-proto generates (`userV1.UserServiceClient`). */
export interface GeneratedClientConstructor<C extends Client> {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): C;
  readonly service: ServiceDefinition;
  readonly serviceName: string;
}
