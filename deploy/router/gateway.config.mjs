// Hive Gateway in front of Tidegate's replicas and the survey subgraph (docs/router.md).
//
//   hive-gateway supergraph SUPERGRAPH_FILE -c deploy/router/gateway.config.mjs --host 127.0.0.1 --port 4000
//
// The supergraph comes from compose.mjs (offline, from files). Nothing here reaches the internet:
// no usage reporting, no registry, CDN or uplink (none is configured), no schema polling.
//
// - Authorization: forwarded to Tidegate only, on every fetch and in the connection_init payload of
//   the router's subscription sockets to Tidegate (Tidegate reads the token there, as from a browser).
//   The survey subgraph never sees the token.
// - Persisted documents: the client sends an id of gql/manifest.json (Apollo's
//   extensions.persistedQuery.sha256Hash, or GraphQL over HTTP's documentId "sha256:<hex>"); the
//   router looks the body up in the same manifest Tidegate checks at start-up and plans it. An id not
//   in the manifest is refused here (PERSISTED_QUERY_NOT_IN_LIST). Free-form documents pass through
//   to be planned as well: whether they may run is Tidegate's decision (PERSISTED_ONLY and its
//   exempt roles and clients), made on each fetch the router sends it.
// - Subscriptions: clients reach the router over SSE or graphql-ws (graphql-transport-ws); the
//   router subscribes to Tidegate over graphql-ws at the same /graphql path.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@graphql-hive/gateway";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifestPath = process.env.TIDEGATE_ROUTER_MANIFEST ?? join(ROOT, "gql", "manifest.json");
const manifest = new Map(
  JSON.parse(readFileSync(manifestPath, "utf8")).operations.map((operation) => [operation.id, operation.body]),
);

/** The manifest id a request names, as Tidegate reads it: APQ's hash or documentId "sha256:<hex>". */
function persistedId(params) {
  const apq = params.extensions?.persistedQuery;
  if (apq?.version === 1 && typeof apq.sha256Hash === "string") {
    return apq.sha256Hash;
  }
  const documentId = params.documentId ?? params.extensions?.documentId;
  if (typeof documentId === "string") {
    return documentId.startsWith("sha256:") ? documentId.slice("sha256:".length) : documentId;
  }
  return null;
}

export const gatewayConfig = defineConfig({
  // Schema polling off: the supergraph file changes only when compose.mjs runs again (restart then).
  pollingInterval: 0,
  propagateHeaders: {
    fromClientToSubgraphs({ request, subgraphName }) {
      if (subgraphName !== "tidegate") {
        return undefined;
      }
      const forwarded = {};
      for (const name of ["authorization", "apollographql-client-name", "apollographql-client-version"]) {
        const value = request.headers.get(name);
        if (value) {
          forwarded[name] = value;
        }
      }
      return forwarded;
    },
  },
  transportEntries: {
    tidegate: {
      options: {
        subscriptions: {
          kind: "ws",
          location: "/graphql",
          options: {
            // An SSE or HTTP client's header is `authorization` (lower case); a graphql-ws client's
            // connection_init payload joins the context's headers as sent (`Authorization`, or
            // `token`). Empty ones are dropped, so exactly what the client sent reaches Tidegate.
            connectionParams: {
              Authorization: "{context.headers.Authorization}",
              authorization: "{context.headers.authorization}",
              token: "{context.headers.token}",
            },
          },
        },
      },
    },
  },
  persistedDocuments: {
    getPersistedOperation: (id) => manifest.get(id) ?? null,
    extractPersistedOperationId: persistedId,
    allowArbitraryDocuments: true,
  },
  // GraphiQL (the Laboratory) is bundled, but a demo router has no use for it: Tidegate serves its own.
  graphiql: false,
  landingPage: false,
});
