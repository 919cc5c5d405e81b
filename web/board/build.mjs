// Type-checks the board (tsc, strict) and bundles it into gateway/static/board (git-ignored), from
// the committed lock only: `make board` runs `npm ci` first. The persisted query's id comes from
// gql/manifest.json, so the page sends that id and never a query text.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(root, "gateway", "static", "board");
const manifest = JSON.parse(readFileSync(join(root, "gql", "manifest.json"), "utf-8"));
const op = manifest.operations.find((o) => o.name === "SupervisorBoard");
if (!op) throw new Error("gql/manifest.json has no SupervisorBoard operation: run `tidegate pq build`");

execFileSync(join(here, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", here], { stdio: "inherit" });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["chrome110", "firefox110"],
  outfile: join(out, "board.js"),
  define: { BOARD_DOCUMENT_ID: JSON.stringify(`sha256:${op.id}`) },
  logLevel: "warning",
});
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
