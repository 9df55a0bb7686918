/** sequence(): several middlewares as one, in order; an answer or an error ends it. */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { describe, expect, it } from "vitest";
import { sequence } from "../src/http/signed-in.js";

/** Runs `handler` and resolves with what it passed to next (or "answered" when it did not call next). */
function run(handler: RequestHandler): Promise<unknown> {
  return new Promise((resolve) => {
    const res = { end: () => resolve("answered") } as unknown as Response;
    const next: NextFunction = (err?: unknown) => resolve(err === undefined ? "next" : err);
    void handler({} as Request, res, next);
  });
}

describe("sequence", () => {
  it("runs each handler in order, then calls next", async () => {
    const seen: number[] = [];
    const step =
      (i: number): RequestHandler =>
      (_req, _res, next) => {
        seen.push(i);
        next();
      };
    const asyncStep: RequestHandler = async (_req, _res, next) => {
      await Promise.resolve();
      seen.push(3);
      next(null);
    };
    expect(await run(sequence([step(1), step(2), asyncStep, step(4)]))).toBe("next");
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it("stops at a handler that answers", async () => {
    const seen: string[] = [];
    const answer: RequestHandler = (_req, res) => void res.end();
    const after: RequestHandler = (_req, _res, next) => {
      seen.push("after");
      next();
    };
    expect(await run(sequence([answer, after]))).toBe("answered");
    expect(seen).toEqual([]);
  });

  it("passes on an error given to next, thrown, or rejected, and skips the rest", async () => {
    const boom = new Error("boom");
    const never: RequestHandler = () => {
      throw new Error("must not run");
    };
    expect(await run(sequence([(_req, _res, next) => next(boom), never]))).toBe(boom);
    expect(
      await run(
        sequence([
          () => {
            throw boom;
          },
          never,
        ]),
      ),
    ).toBe(boom);
    expect(await run(sequence([() => Promise.reject(boom), never]))).toBe(boom);
  });
});
