// Points ts-proto's int64 reads and writes in src/gen at src/wire/int64.ts (see
// there why). Run by `pnpm run gen` after buf generate; fails if the generated
// code has an int64 read or write of a shape it does not know, so a ts-proto
// upgrade cannot leave a slow path behind silently.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const gen = path.join(root, "src/gen");
const helper = path.join(root, "src/wire/int64.js");
const WIRE_IMPORT = 'import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";\n';

const files = readdirSync(gen, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".ts"));
let rewritten = 0;
for (const file of files) {
  const full = path.join(gen, file);
  const src = readFileSync(full, "utf8");
  let out = src
    .replaceAll("longToNumber(reader.int64())", "readInt64(reader)")
    .replace(/writer\.uint32\((\d+)\)\.int64\(([^;]+)\);/g, "writeInt64(writer.uint32($1), $2);")
    .replaceAll("writer.int64(v);", "writeInt64(writer, v);");
  const left = out.split("\n").filter((line) => /\.int64\(/.test(line));
  if (left.length > 0) {
    process.stderr.write(`fast-int64: ${file} has int64 code of an unknown shape:\n${left.join("\n")}\n`);
    process.exit(1);
  }
  if (out === src) continue;
  if (!out.includes(WIRE_IMPORT)) {
    process.stderr.write(`fast-int64: ${file} does not import BinaryReader/BinaryWriter as expected\n`);
    process.exit(1);
  }
  let rel = path.relative(path.dirname(full), helper).split(path.sep).join("/");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  out = out.replace(WIRE_IMPORT, `${WIRE_IMPORT}import { readInt64, writeInt64 } from "${rel}";\n`);
  writeFileSync(full, out);
  rewritten++;
}
process.stdout.write(`fast-int64: ${rewritten} of ${files.length} generated files read and write int64 through src/wire/int64.ts\n`);
