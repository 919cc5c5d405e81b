// Compose the supergraph offline: Tidegate's committed SDL (schema/schema.graphql, what `tidegate sdl`
// prints and `_service { sdl }` serves) plus the survey subgraph's, with The Guild's composition
// library (what Hive Gateway itself uses). Any composition error exits 1 with the errors on stderr.
//
// Usage: node compose.mjs OUT TIDEGATE_URL SURVEY_URL [TIDEGATE_SDL_FILE]
//   OUT                the supergraph SDL file to write
//   TIDEGATE_URL       the replicas' one URL, e.g. http://127.0.0.1:8000/graphql (the routing URL)
//   SURVEY_URL         the survey subgraph; its SDL is read from its `_service { sdl }` (no token)
//   TIDEGATE_SDL_FILE  default: schema/schema.graphql of this checkout

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const [out, tidegateUrl, surveyUrl, sdlFile = join(ROOT, "schema", "schema.graphql")] = process.argv.slice(2);
if (!out || !tidegateUrl || !surveyUrl) {
  console.error("usage: node compose.mjs OUT TIDEGATE_URL SURVEY_URL [TIDEGATE_SDL_FILE]");
  process.exit(2);
}

async function surveySdl(url) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const sdl = (await response.json().catch(() => null))?.data?._service?.sdl;
  if (!response.ok || typeof sdl !== "string") {
    throw new Error(`surveys: no _service { sdl } at ${url} (HTTP ${response.status})`);
  }
  return sdl;
}

const composed = composeServices([
  { name: "tidegate", url: tidegateUrl, typeDefs: parse(readFileSync(sdlFile, "utf8")) },
  { name: "surveys", url: surveyUrl, typeDefs: parse(await surveySdl(surveyUrl)) },
]);
if (composed.errors) {
  console.error("composition failed:");
  for (const error of composed.errors) {
    console.error(`  ${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  }
  process.exit(1);
}
writeFileSync(out, composed.supergraphSdl);
console.log(`supergraph written to ${out}`);
