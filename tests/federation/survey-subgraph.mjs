// A second subgraph for the federation test: customer satisfaction surveys, owned by another team.
//
// It adds `Customer.satisfaction` to Tidegate's Customer (keyed by `id`), so a router asks it for
// Tidegate's customers through `_entities`, and its root field `recentSurveys` answers with
// Customer references only, which the router asks Tidegate to resolve: both directions cross.
//
// Usage: node survey-subgraph.mjs PORT   (listens on 127.0.0.1:PORT, GraphQL at /graphql)

import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.1", import: ["@key"])

  type Query {
    "The latest survey answers, newest first: customers KH00000001, KH00000002, ... in that order."
    recentSurveys(first: Int! = 3): [SurveyResponse!]!
    "The survey team's call-backs booked for these customers, one each, in order."
    surveyCalls(customerIds: [ID!]!): [SurveyCall!]!
  }

  "A call-back the survey team booked. Its customer is non-null, as another team may well declare it."
  type SurveyCall {
    id: ID!
    customer: Customer!
  }

  type SurveyResponse {
    id: ID!
    score: Int!
    "Only a reference: the router asks Tidegate for everything else about the customer."
    customer: Customer
  }

  type Customer @key(fields: "id") {
    id: ID!
    satisfaction: Satisfaction
  }

  type Satisfaction {
    "1 (angry) to 5 (delighted)."
    score: Int!
    comment: String
  }
`);

const COMMENTS = ["停水通知太晚", "抄表员态度好", "缴费方便", "维修很及时", "账单看不懂"];

// Deterministic per customer number, so the test knows what to expect without a store.
function satisfaction(customerId) {
  const n = [...customerId].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);
  return { score: 1 + (n % 5), comment: COMMENTS[n % COMMENTS.length] };
}

const customerNo = (i) => `KH${String(i).padStart(8, "0")}`;

const resolvers = {
  Query: {
    recentSurveys: (_root, { first }) =>
      Array.from({ length: Math.max(0, Math.min(first, 50)) }, (_, i) => ({
        id: `S${i + 1}`,
        score: satisfaction(customerNo(i + 1)).score,
        customer: { id: customerNo(i + 1) },
      })),
    surveyCalls: (_root, { customerIds }) =>
      customerIds.slice(0, 50).map((id, i) => ({ id: `C${i + 1}`, customer: { id } })),
  },
  Customer: {
    __resolveReference: (ref) => ({ id: ref.id }),
    satisfaction: (customer) => satisfaction(customer.id),
  },
};

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node survey-subgraph.mjs PORT");
  process.exit(2);
}
const server = new ApolloServer({
  schema: buildSubgraphSchema({ typeDefs, resolvers }),
  includeStacktraceInErrorResponses: false,
});
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port } });
console.log(`survey subgraph ready at ${url}`);
