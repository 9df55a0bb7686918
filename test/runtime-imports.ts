/**
 * What the image's processes load, found statically: from an entry file, every
 * module reached through relative imports and workspace packages, and each
 * third-party package imported on the way, with the workspace package that
 * imports it. The image installs production dependencies only and the
 * workspace hoists nothing, so a package imported by a module at run time must
 * be in the `dependencies` of the package that imports it.
 */
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";

export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
  readonly exports: Readonly<Record<string, string>>;
}

export function workspacePackages(): WorkspacePackage[] {
  const patterns = fs
    .readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8")
    .match(/^packages:\n((?:\s+-\s+.+\n)+)/m)![1]!
    .split("\n")
    .map((l) => l.replace(/^\s*-\s*/, "").trim())
    .filter(Boolean);
  const dirs = [
    ROOT,
    ...patterns.flatMap((p) =>
      p.endsWith("/*") ? fs.readdirSync(path.join(ROOT, p.slice(0, -2))).map((d) => path.join(ROOT, p.slice(0, -2), d)) : [path.join(ROOT, p)],
    ),
  ];
  return dirs
    .filter((d) => fs.existsSync(path.join(d, "package.json")))
    .map((dir) => {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Partial<WorkspacePackage> & { exports?: Record<string, string> };
      return { name: pkg.name!, dir, dependencies: pkg.dependencies ?? {}, devDependencies: pkg.devDependencies ?? {}, exports: pkg.exports ?? {} };
    });
}

/** Runtime import specifiers of a module: static imports and re-exports (not `import type`), side-effect imports, dynamic imports. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm)) if (!m[2]) out.push(m[3]!);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

const packageNameOf = (specifier: string) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
const BUILTINS = new Set(builtinModules);

/** Every third-party package the modules reachable from `entries` import, with the workspace package importing it. */
export function runtimeImports(entries: readonly string[], packages = workspacePackages()): { file: string; pkg: WorkspacePackage; dependency: string }[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const owner = (file: string) => packages.filter((p) => file.startsWith(p.dir + path.sep)).sort((a, b) => b.dir.length - a.dir.length)[0]!;
  const seen = new Set<string>();
  const found: { file: string; pkg: WorkspacePackage; dependency: string }[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const pkg = owner(file);
    for (const spec of importSpecifiers(fs.readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts");
        if (!fs.existsSync(target)) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which does not exist`);
        if (target.endsWith(".ts")) visit(target);
        continue;
      }
      if (spec.startsWith("node:") || BUILTINS.has(spec)) continue;
      const name = packageNameOf(spec);
      found.push({ file, pkg, dependency: name });
      const ws = byName.get(name);
      if (ws) {
        const sub = `.${spec.slice(name.length)}`;
        const target = ws.exports[sub];
        if (!target) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which ${name} does not export`);
        visit(path.join(ws.dir, target));
      }
    }
  };
  for (const e of entries) visit(path.join(ROOT, e));
  return found;
}
