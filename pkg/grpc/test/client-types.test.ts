/**
 * The promise client's types are inferred from the ts-proto generated
 * clients. These assertions are checked by the type checker (`tsc`); at run
 * time they only make sure the module graph loads.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { PromiseClient, UnaryMethodName } from "@rs/grpc";
import type { echoV1, userV1 } from "@rs/idl";

describe("PromiseClient types", () => {
  it("exposes exactly the service's unary methods with their request and response types", () => {
    expectTypeOf<UnaryMethodName<echoV1.EchoServiceClient>>().toEqualTypeOf<"echo">();
    type Echo = PromiseClient<echoV1.EchoServiceClient>["echo"];
    expectTypeOf<Parameters<Echo>[0]>().toEqualTypeOf<echoV1.EchoRequest>();
    expectTypeOf<Awaited<ReturnType<Echo>>>().toEqualTypeOf<echoV1.EchoResponse>();

    type User = PromiseClient<userV1.UserServiceClient>;
    expectTypeOf<Parameters<User["getUser"]>[0]>().toEqualTypeOf<userV1.GetUserRequest>();
    expectTypeOf<Awaited<ReturnType<User["getUser"]>>>().toEqualTypeOf<userV1.GetUserResponse>();
    // grpc-js's own Client methods are not RPCs.
    expectTypeOf<UnaryMethodName<userV1.UserServiceClient>>().not.toEqualTypeOf<"close" | "getChannel">();
    expectTypeOf<User>().not.toHaveProperty("waitForReady");
    expectTypeOf<echoV1.EchoServiceClient>().toHaveProperty("waitForReady");
  });
});
