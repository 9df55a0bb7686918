/** sendJson answers exactly what Express's res.status().json() does in this app: status, headers, bytes; HEAD without a body. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendJson } from "../src/http/send-json.js";

const bodies: Record<string, unknown> = {
  small: { id: 1, name: "a" },
  unicode: { name: "Zoë 🚀 \u2028", nested: [1, null, { x: "é" }] },
  large: { users: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `user-${i}`, signature: "x".repeat(40) })) },
  array: [1, 2, 3],
  text: "just a string",
};

let server: http.Server;
let base = "";

beforeAll(async () => {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.get("/express/:name", (req, res) => void res.status(201).json(bodies[req.params.name]));
  app.get("/send/:name", (req, res) => sendJson(res, 201, bodies[req.params.name]));
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

async function answer(path: string, method = "GET") {
  const res = await fetch(base + path, { method });
  const bytes = Buffer.from(await res.arrayBuffer());
  const headers = Object.fromEntries([...res.headers].filter(([k]) => k !== "date"));
  return { status: res.status, headers, bytes: bytes.toString("hex") };
}

describe("sendJson", () => {
  it.each(Object.keys(bodies))("%s: the same status, headers and bytes as res.json", async (name) => {
    expect(await answer(`/send/${name}`)).toEqual(await answer(`/express/${name}`));
  });

  it("HEAD: the same headers, no body", async () => {
    const head = await answer("/send/large", "HEAD");
    expect(head).toEqual(await answer("/express/large", "HEAD"));
    expect(head.bytes).toBe("");
  });
});
