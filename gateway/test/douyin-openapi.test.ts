/**
 * The /douyin OpenAPI document: valid OpenAPI 3.1, built from the same
 * declarations the router serves (every registered /douyin route is in it,
 * nothing else), with each route's parameters, the token parameter as the
 * route takes it, and the status_code/status_msg envelope with the route's keys
 * and failure codes. The app serves it and the docs page offers both documents.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { DOUYIN_EMPTY } from "../src/douyin/douyin-envelope.js";
import { DOUYIN_API_VERSION, buildDouyinOpenApiDocument } from "../src/douyin/douyin-openapi.js";
import { douyinRouter, douyinRoutes } from "../src/douyin/douyin.routes.js";
import { offlineDeps, unusedClients } from "./support/offline-deps.js";
import { expectRefsResolve, expectValidOpenApi31, operationsOf, servedRoutes } from "./support/openapi-checks.js";

const deps = offlineDeps();
const routes = douyinRoutes(unusedClients(), deps.config);
const doc = buildDouyinOpenApiDocument(routes, "test");

type Parameter = { name: string; in: string; required?: boolean };
type Schema = { properties?: Record<string, { enum?: number[] }>; required?: string[] };
type Operation = {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { content: { "application/json": { schema: Schema; examples: Record<string, { value: Record<string, unknown> }> } } }>;
};
const operations = operationsOf<Operation>(doc);
const op = (key: string) => operations.find((o) => o.key === key)!.op;

describe("the /douyin OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    await expectValidOpenApi31(doc);
  });

  it("lists every route the router serves, and nothing else", () => {
    const routerRoutes = servedRoutes(douyinRouter(deps), "/douyin").filter((r) => r !== "GET /douyin/openapi.json");
    expect(operations.map((o) => o.key).sort()).toEqual(routerRoutes.sort());
    expect(routerRoutes.sort()).toEqual(
      [
        "POST /douyin/user/register/",
        "POST /douyin/user/login/",
        "GET /douyin/user/",
        "POST /douyin/relation/action/",
        "GET /douyin/relation/follow/list/",
        "GET /douyin/relation/follower/list/",
        "GET /douyin/relation/friend/list/",
      ].sort(),
    );
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
  });

  it("documents the parameters, in the query and (for POST) as form fields", () => {
    const names = (o: Operation) =>
      (o.parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => p.name)
        .sort();
    expect(names(op("POST /douyin/user/register/"))).toEqual(["password", "username"]);
    expect(names(op("POST /douyin/relation/action/"))).toEqual(["action_type", "to_user_id", "token", "user_id"]);
    expect(names(op("GET /douyin/relation/follow/list/"))).toEqual(["token", "user_id"]);
    expect(Object.keys(op("POST /douyin/relation/action/").requestBody!.content).sort()).toEqual(["application/json", "application/x-www-form-urlencoded"]);
    expect(op("POST /douyin/relation/action/").requestBody!.required).toBe(false);
    expect(op("GET /douyin/user/").requestBody).toBeUndefined();
  });

  it("the token is a parameter: required where a sign-in is, optional on /user/, absent on register and login", () => {
    const token = (key: string) => op(key).parameters?.find((p) => p.name === "token");
    for (const key of [
      "POST /douyin/relation/action/",
      "GET /douyin/relation/follow/list/",
      "GET /douyin/relation/follower/list/",
      "GET /douyin/relation/friend/list/",
    ]) {
      expect(token(key), key).toMatchObject({ in: "query", required: true });
    }
    expect(token("GET /douyin/user/")?.required ?? false).toBe(false);
    expect(token("POST /douyin/user/register/")).toBeUndefined();
    expect(token("POST /douyin/user/login/")).toBeUndefined();
  });

  it("answers are the envelope with the route's keys, failure codes and their empty values included", () => {
    for (const { key, op: o } of operations) {
      expect(Object.keys(o.responses), key).toEqual(["200"]);
      const { schema, examples } = o.responses["200"]!.content["application/json"];
      const path = key.split(" ")[1]!.slice("/douyin".length);
      const keys = Object.keys(DOUYIN_EMPTY[path]!);
      expect(Object.keys(schema.properties!).sort(), key).toEqual(["status_code", "status_msg", ...keys].sort());
      expect(schema.required).toEqual(expect.arrayContaining(["status_code", "status_msg", ...keys]));
      const codes = schema.properties!.status_code!.enum!;
      expect(codes[0]).toBe(0);
      expect(codes).toEqual(expect.arrayContaining([400, 429, 500, 503, 504]));
      expect(Object.keys(examples).length).toBe(codes.length - 1);
      for (const e of Object.values(examples))
        expect(e.value).toEqual({ status_code: expect.any(Number), status_msg: expect.any(String), ...DOUYIN_EMPTY[path] });
    }
    const codes = (k: string) => op(k).responses["200"]!.content["application/json"].schema.properties!.status_code!.enum;
    expect(codes("POST /douyin/user/register/")).toEqual(expect.arrayContaining([409, 413]));
    expect(codes("POST /douyin/user/register/")).not.toContain(401);
    expect(codes("POST /douyin/relation/action/")).toEqual(expect.arrayContaining([401, 403, 404]));
  });

  it("every $ref points at a component", () => {
    expect(expectRefsResolve(doc)).toEqual(expect.arrayContaining(["DouyinUser", "DouyinFriendUser"]));
  });
});

describe("served", () => {
  let base = "";
  let close: () => void = () => undefined;
  beforeAll(async () => {
    const server = createApp(deps).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("at /douyin/openapi.json, and the docs page offers both documents", async () => {
    const res = await fetch(`${base}/douyin/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(buildDouyinOpenApiDocument(routes, DOUYIN_API_VERSION))));
    const init = await (await fetch(`${base}/api/docs/swagger-ui-init.js`)).text();
    expect(init).toContain("/api/openapi.json");
    expect(init).toContain("/douyin/openapi.json");
  });
});
