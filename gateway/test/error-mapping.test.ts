import { describe, expect, it } from "vitest";
import { Code as status, StatusError } from "@rs/errors";
import { createLogger } from "@rs/logger";
import { fromRemote, guardClient } from "../src/clients/remote-error.js";
import { DOUYIN_EMPTY, emptyOf } from "../src/douyin/douyin-envelope.js";
import { HTTP_STATUS_OF, failureOf } from "../src/http/error-handler.js";

const logger = createLogger("test", "silent");
/** What grpc-js hands a client: a ServiceError with the transport's own text. */
const serviceError = (code: status, details: string) => Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });

describe("errors from the services", () => {
  it("refusals keep their code and text", () => {
    for (const code of [
      status.INVALID_ARGUMENT,
      status.NOT_FOUND,
      status.ALREADY_EXISTS,
      status.PERMISSION_DENIED,
      status.UNAUTHENTICATED,
      status.FAILED_PRECONDITION,
    ]) {
      const e = fromRemote(serviceError(code, "username is taken"), "user");
      expect(e).toBeInstanceOf(StatusError);
      expect(e.code).toBe(code);
      expect(e.details).toBe("username is taken");
    }
  });

  it("transport failures keep their code, never their text", () => {
    const down = fromRemote(serviceError(status.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED 10.0.0.7:8080"), "relation");
    expect(down.code).toBe(status.UNAVAILABLE);
    expect(down.details).toBe("relation service unavailable, try again later");
    const slow = fromRemote(serviceError(status.DEADLINE_EXCEEDED, "Deadline exceeded after 2.001s,LB pick: 0.000s,remote_addr=10.0.0.7:8080"), "user");
    expect(slow.code).toBe(status.DEADLINE_EXCEEDED);
    expect(slow.details).not.toContain("10.0.0.7");
  });

  it("anything else is INTERNAL with a fixed text, the original kept as cause", () => {
    for (const err of [
      serviceError(status.INTERNAL, "ER_DUP_ENTRY: Duplicate entry ... for key 'PRIMARY'"),
      serviceError(status.UNKNOWN, "boom"),
      new TypeError("x is undefined"),
      "a string",
    ]) {
      const e = fromRemote(err, "user");
      expect(e.code).toBe(status.INTERNAL);
      expect(e.details).toBe("internal error");
      expect((e as { cause?: unknown }).cause).toBe(err);
    }
  });

  it("guardClient applies this to every method of a client", async () => {
    const client = guardClient(
      { getUser: () => Promise.reject(serviceError(status.UNAVAILABLE, "ECONNREFUSED 1.2.3.4")), ok: () => Promise.resolve(7) },
      "user",
    );
    await expect(client.getUser()).rejects.toMatchObject({ code: status.UNAVAILABLE, details: "user service unavailable, try again later" });
    await expect(client.ok()).resolves.toBe(7);
  });
});

describe("the one table", () => {
  it("maps every code the error table names (ADR 9)", () => {
    expect(HTTP_STATUS_OF[status.INVALID_ARGUMENT]).toBe(400);
    expect(HTTP_STATUS_OF[status.UNAUTHENTICATED]).toBe(401);
    expect(HTTP_STATUS_OF[status.PERMISSION_DENIED]).toBe(403);
    expect(HTTP_STATUS_OF[status.NOT_FOUND]).toBe(404);
    expect(HTTP_STATUS_OF[status.ALREADY_EXISTS]).toBe(409);
    expect(HTTP_STATUS_OF[status.RESOURCE_EXHAUSTED]).toBe(429);
    expect(HTTP_STATUS_OF[status.UNAVAILABLE]).toBe(503);
    expect(HTTP_STATUS_OF[status.DEADLINE_EXCEEDED]).toBe(504);
  });

  it("body parser errors are 400/413; unknown errors 500 with a fixed text", () => {
    expect(failureOf({ type: "entity.too.large", status: 413 }, logger, "r")).toMatchObject({ status: 413 });
    expect(failureOf({ type: "entity.parse.failed", status: 400 }, logger, "r")).toMatchObject({ status: 400, message: "malformed request body" });
    expect(failureOf(new Error("SELECT * FROM users WHERE ..."), logger, "r")).toEqual({ status: 500, message: "internal error", code: "INTERNAL" });
    expect(failureOf(new StatusError(status.INTERNAL, "stack trace here"), logger, "r")).toEqual({ status: 500, message: "internal error", code: "INTERNAL" });
    expect(failureOf(new StatusError(status.NOT_FOUND, "user 5 not found"), logger, "r")).toEqual({
      status: 404,
      message: "user 5 not found",
      code: "NOT_FOUND",
    });
  });
});

describe("/douyin documented keys", () => {
  it("a failed register still has user_id and an empty token", () => {
    expect(emptyOf("/user/register/")).toEqual({ user_id: 0, token: "" });
    expect(emptyOf("/user/register")).toEqual({ user_id: 0, token: "" });
    expect(emptyOf("/USER/LOGIN/")).toEqual({ user_id: 0, token: "" });
  });
  it("every route has its keys", () => {
    expect(Object.keys(DOUYIN_EMPTY).sort()).toEqual(
      ["/relation/action/", "/relation/follow/list/", "/relation/follower/list/", "/relation/friend/list/", "/user/", "/user/login/", "/user/register/"].sort(),
    );
    expect(emptyOf("/user/")).toEqual({ user: null });
    expect(emptyOf("/relation/friend/list/")).toEqual({ user_list: [] });
  });
});
