/**
 * Reading migration files: `NNNN_description.sql` in a directory, applied in
 * the order of their number, identified as `<dir name>/<file name>`.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** A migrations directory and the name its files are recorded under. */
export interface MigrationDir {
  /** Usually the owning service, e.g. `relation`; recorded as `<name>/<file>`. */
  readonly name: string;
  readonly dir: string;
}

/** One migration file, read and checksummed. */
export interface MigrationFile {
  /** `<dir name>/<file name>`: the key in `schema_migrations`. */
  readonly name: string;
  readonly version: number;
  readonly path: string;
  readonly sql: string;
  /** SHA-256 (hex) of the file with line endings normalised to `\n`. */
  readonly checksum: string;
}

/** Thrown when a migrations directory holds something the runner will not guess about. */
export class MigrationFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationFileError";
  }
}

const FILE_NAME = /^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$/;
const DIR_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * SHA-256 of the SQL text. Line endings are normalised so that a checkout with
 * CRLF does not look like an edited migration.
 */
export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
}

/**
 * Reads every `NNNN_description.sql` of each directory, in directory order and
 * then number order.
 *
 * @throws MigrationFileError for a missing directory, a `.sql` file whose name
 *   does not follow the pattern (it would otherwise be skipped silently), a
 *   number used twice in one directory, or two directories with one name.
 */
export async function loadMigrations(dirs: readonly MigrationDir[]): Promise<MigrationFile[]> {
  const seenNames = new Set<string>();
  const out: MigrationFile[] = [];
  for (const { name, dir } of dirs) {
    if (!DIR_NAME.test(name)) throw new MigrationFileError(`migrations name "${name}" must be lower-case letters, digits, "-" or "_"`);
    if (seenNames.has(name)) throw new MigrationFileError(`two migration directories are named "${name}"`);
    seenNames.add(name);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      throw new MigrationFileError(`cannot read migrations directory ${dir}: ${(err as Error).message}`);
    }
    const files: { version: number; file: string }[] = [];
    for (const file of entries) {
      if (!file.endsWith(".sql")) continue;
      const m = FILE_NAME.exec(file);
      if (!m) throw new MigrationFileError(`${path.join(dir, file)}: name must be NNNN_description.sql (four digits, lower-case words joined by "_")`);
      files.push({ version: Number(m[1]), file });
    }
    files.sort((a, b) => a.version - b.version);
    for (let i = 1; i < files.length; i++) {
      if (files[i]!.version === files[i - 1]!.version) {
        throw new MigrationFileError(`${dir}: ${files[i - 1]!.file} and ${files[i]!.file} have the same number`);
      }
    }
    for (const { version, file } of files) {
      const full = path.join(dir, file);
      const sql = await readFile(full, "utf8");
      out.push({ name: `${name}/${file}`, version, path: full, sql, checksum: checksumOf(sql) });
    }
  }
  return out;
}
