// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "idl/src/gen/**", ".data/**", "deploy/kafka/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // Services log through pino; scripts, tests and benchmarks may print.
    files: ["services/**/src/**/*.ts", "gateway/src/**/*.ts", "pkg/**/src/**/*.ts"],
    rules: { "no-console": "error" },
  },
);
