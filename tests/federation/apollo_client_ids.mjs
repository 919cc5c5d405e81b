// Prints, as JSON {name: sha256}, the persisted-query id a real Apollo Client sends for each
// gql/*.graphql operation: the cache's document transforms (`__typename`) and the persisted-query
// link's own hashing, with a terminating link that records the request instead of sending it.
// tests/federation/test_apollo_client_ids.py checks every id is in gql/manifest.json.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloClient, ApolloLink, InMemoryCache, Observable, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const dir = process.argv[2];
const seen = {};
const record = new ApolloLink((operation) => {
  seen[operation.operationName] = operation.extensions.persistedQuery.sha256Hash;
  return new Observable((observer) => {
    observer.next({ data: null });
    observer.complete();
  });
});
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: createPersistedQueryLink({ sha256 }).concat(record),
});
for (const file of readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort()) {
  const document = gql(readFileSync(join(dir, file), "utf8"));
  const kind = document.definitions.find((d) => d.kind === "OperationDefinition").operation;
  if (kind === "mutation") {
    await client.mutate({ mutation: document, variables: {}, fetchPolicy: "no-cache" });
  } else {
    await client.query({ query: document, variables: {}, fetchPolicy: "no-cache" });
  }
}
process.stdout.write(JSON.stringify(seen));
