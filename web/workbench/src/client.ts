// Apollo Client with the persisted-query link: every operation goes out as its id from
// gql/manifest.json (the Apollo form, with __typename, which is what this client sends), never as
// text. Queries and mutations POST to /graphql; subscriptions travel on graphql-transport-ws
// (graphql-ws), also by id: the payload's `query` is empty and `extensions.persistedQuery` names it.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable, split } from "@apollo/client/core";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { getMainDefinition, getOperationName } from "@apollo/client/utilities";
import type { DocumentNode } from "graphql";
import { createClient } from "graphql-ws";
import manifest from "../../../gql/manifest.json";
import { currentToken } from "./auth";

interface ManifestOperation {
  id: string;
  name: string;
  body: string;
}

/** Operation name -> the id Apollo Client's form of it has in the manifest. */
export const PERSISTED_IDS: Record<string, string> = Object.fromEntries(
  (manifest.operations as ManifestOperation[])
    .filter((op) => op.body.includes("__typename"))
    .map((op) => [op.name, op.id]),
);

export function persistedId(document: DocumentNode): string {
  const name = getOperationName(document);
  const id = name ? PERSISTED_IDS[name] : undefined;
  if (!id) throw new Error(`operation ${name ?? "(unnamed)"} is not in gql/manifest.json`);
  return id;
}

const CLIENT_HEADERS = { "apollographql-client-name": "workbench", "apollographql-client-version": "1" };

const persisted = createPersistedQueryLink({
  generateHash: (document: DocumentNode) => persistedId(document),
  // A miss is an error to show, never a reason to send the text.
  retry: () => false,
  disable: () => false,
});

const http = new HttpLink({
  uri: "/graphql",
  fetch: (input, init) => {
    const headers = new Headers(init?.headers);
    const token = currentToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    Object.entries(CLIENT_HEADERS).forEach(([k, v]) => headers.set(k, v));
    return fetch(input, { ...init, headers });
  },
});

const socketUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
export const socket = createClient({
  url: socketUrl,
  lazy: true,
  retryAttempts: 20,
  connectionParams: () => ({ Authorization: `Bearer ${currentToken() ?? ""}` }),
});

/** Subscriptions by id over graphql-ws (the persisted link above put the id in `extensions`). */
const ws = new ApolloLink(
  (operation) =>
    new Observable((observer) =>
      socket.subscribe(
        {
          query: "", // graphql-ws insists on the key; the id in extensions names the operation
          operationName: operation.operationName,
          variables: operation.variables,
          extensions: operation.extensions,
        },
        {
          next: (value) => observer.next(value as never),
          error: (err) => observer.error(err instanceof Error ? err : new Error(JSON.stringify(err))),
          complete: () => observer.complete(),
        },
      ),
    ),
);

const isSubscription = ({ query }: { query: DocumentNode }) => {
  const definition = getMainDefinition(query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
};

export const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: persisted.concat(split(isSubscription, ws, http)),
  defaultOptions: {
    query: { fetchPolicy: "no-cache", errorPolicy: "all" },
    mutate: { fetchPolicy: "no-cache", errorPolicy: "all" },
    watchQuery: { fetchPolicy: "no-cache", errorPolicy: "all" },
  },
});

