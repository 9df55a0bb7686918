import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MigrationFileError, checksumOf, loadMigrations } from "../src/index.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "rs-migrations-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function dir(name: string, files: Record<string, string>): Promise<string> {
  const d = path.join(root, name);
  await mkdir(d, { recursive: true });
  for (const [file, sql] of Object.entries(files)) await writeFile(path.join(d, file), sql);
  return d;
}

describe("loadMigrations", () => {
  it("orders files by number within a directory, directories as given, and skips non-SQL files", async () => {
    const a = await dir("a", { "0010_third.sql": "c", "0002_second.sql": "b", "0001_first.sql": "a", "README.md": "x" });
    const b = await dir("b", { "0001_other.sql": "d" });
    const files = await loadMigrations([
      { name: "user", dir: a },
      { name: "relation", dir: b },
    ]);
    expect(files.map((f) => f.name)).toEqual(["user/0001_first.sql", "user/0002_second.sql", "user/0010_third.sql", "relation/0001_other.sql"]);
    expect(files[0]!.checksum).toBe(checksumOf("a"));
  });

  it("refuses a .sql file that does not follow NNNN_description.sql", async () => {
    const a = await dir("a", { "1_first.sql": "a" });
    await expect(loadMigrations([{ name: "user", dir: a }])).rejects.toThrow(/1_first\.sql: name must be NNNN_description\.sql/);
  });

  it("refuses two files with one number", async () => {
    const a = await dir("a", { "0001_first.sql": "a", "0001_again.sql": "b" });
    await expect(loadMigrations([{ name: "user", dir: a }])).rejects.toThrow(/have the same number/);
  });

  it("refuses a missing directory and a duplicated name", async () => {
    const a = await dir("a", {});
    await expect(loadMigrations([{ name: "user", dir: path.join(root, "nope") }])).rejects.toThrow(MigrationFileError);
    await expect(
      loadMigrations([
        { name: "user", dir: a },
        { name: "user", dir: a },
      ]),
    ).rejects.toThrow(/two migration directories are named "user"/);
  });
});

describe("checksumOf", () => {
  it("ignores CRLF versus LF but sees any other change", () => {
    expect(checksumOf("CREATE TABLE t (id INT);\r\n")).toBe(checksumOf("CREATE TABLE t (id INT);\n"));
    expect(checksumOf("CREATE TABLE t (id INT);\n")).not.toBe(checksumOf("CREATE TABLE t (id BIGINT);\n"));
    expect(checksumOf("x")).toMatch(/^[0-9a-f]{64}$/);
  });
});
