// Bundles the workbench with esbuild into gateway/static/workbench/ (git-ignored), which the BFF
// serves at /workbench/assets/. Run by `make workbench` from the committed package-lock.json.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "gateway", "static", "workbench");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.tsx")],
  outfile: join(out, "workbench.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".graphql": "text" },
  define: { "process.env.NODE_ENV": '"production"', "globalThis.__DEV__": "false" },
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(join(here, "src", "style.css"), join(out, "workbench.css"));
