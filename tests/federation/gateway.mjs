// A real Apollo Federation 2 gateway in front of Tidegate and the survey subgraph, for the tests.
//
// 1. Fetches each subgraph's `_service { sdl }`: Tidegate's with the bearer token in
//    TIDEGATE_SDL_TOKEN (every request to Tidegate needs one), the survey subgraph's without.
// 2. Composes them with @apollo/composition (`composeServices`); any composition error stops the
//    process with the errors on stderr and exit code 1, so the test fails loudly.
// 3. Starts ApolloGateway on that static supergraph behind Apollo Server, forwarding the caller's
//    Authorization header (and the apollographql-client-name / -version headers) to Tidegate only:
//    the survey subgraph never sees the token.
// 4. Persisted documents: an id of gql/manifest.json (Apollo's extensions.persistedQuery.sha256Hash)
//    resolves to the manifest's body, which the gateway plans; nothing registers at run time (APQ's
//    cache here is the manifest, read-only). Subscriptions: @apollo/gateway has none (docs/router.md).
//
// Usage: node gateway.mjs PORT TIDEGATE_URL SURVEY_URL   (listens on 127.0.0.1:PORT)
// With --print-supergraph it prints the composed supergraph SDL and exits instead of listening.

import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "graphql";

const printOnly = process.argv.includes("--print-supergraph");
const [portArg, tidegateUrl, surveyUrl] = process.argv.slice(2).filter((a) => a !== "--print-supergraph");
const port = Number(portArg);
if (!Number.isInteger(port) || !tidegateUrl || !surveyUrl) {
  console.error("usage: node gateway.mjs PORT TIDEGATE_URL SURVEY_URL [--print-supergraph]");
  process.exit(2);
}
const token = process.env.TIDEGATE_SDL_TOKEN;

async function fetchSdl(name, url, headers) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json().catch(() => null);
  const sdl = body?.data?._service?.sdl;
  if (!response.ok || typeof sdl !== "string") {
    throw new Error(`${name}: no _service { sdl } (HTTP ${response.status}): ${JSON.stringify(body)}`);
  }
  return sdl;
}

const subgraphs = [
  {
    name: "tidegate",
    url: tidegateUrl,
    typeDefs: parse(await fetchSdl("tidegate", tidegateUrl, token ? { authorization: `Bearer ${token}` } : {})),
  },
  { name: "surveys", url: surveyUrl, typeDefs: parse(await fetchSdl("surveys", surveyUrl, {})) },
];

const composed = composeServices(subgraphs);
if (composed.errors) {
  console.error("composition failed:");
  for (const error of composed.errors) {
    console.error(`  ${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  }
  process.exit(1);
}
for (const hint of composed.hints ?? []) {
  console.error(`composition hint ${hint.definition.code}: ${hint.message}`);
}
if (printOnly) {
  process.stdout.write(composed.supergraphSdl);
  process.exit(0);
}

const FORWARDED = ["authorization", "apollographql-client-name", "apollographql-client-version"];

class TidegateDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const name of FORWARDED) {
      if (context.headers[name]) {
        request.http.headers.set(name, context.headers[name]);
      }
    }
  }
}

// Apollo Server's APQ cache, answered from the manifest only: the key is "apq:<sha256 hex>".
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifest = new Map(
  JSON.parse(readFileSync(join(ROOT, "gql", "manifest.json"), "utf8")).operations.map((o) => [`apq:${o.id}`, o.body]),
);
const manifestCache = {
  async get(key) {
    return manifest.get(key);
  },
  async set() {}, // a client's registration stores nothing: the list is the manifest
  async delete() {},
};

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ name, url }) =>
    name === "tidegate" ? new TidegateDataSource({ url }) : new RemoteGraphQLDataSource({ url }),
});
const server = new ApolloServer({
  gateway,
  includeStacktraceInErrorResponses: false,
  persistedQueries: { cache: manifestCache },
});
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port },
  context: async ({ req }) => ({
    headers: Object.fromEntries(FORWARDED.map((name) => [name, req.headers[name]])),
  }),
});
console.log(`gateway ready at ${url}`);
