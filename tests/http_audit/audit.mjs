// graphql-http's server audits against a running Tidegate: `node audit.mjs <graphql url>`.
//
// Every audit request carries `Authorization: Bearer $TIDEGATE_AUDIT_TOKEN` (Tidegate answers
// nothing without a token) and nothing else of ours: the audits' own headers are sent as written, so
// a refusal they provoke (a GET without a CSRF preflight header) is reported, not worked around.
// The audits run one after another, so admission control sees one client at a steady pace.
// Prints one JSON array: {id, name, status} per audit, and for one that did not pass, the reason and
// what Tidegate answered (status, content type, body).
import { serverAudits } from "graphql-http";

const [url] = process.argv.slice(2);
const token = process.env.TIDEGATE_AUDIT_TOKEN;
if (!url || !token) {
  console.error("usage: TIDEGATE_AUDIT_TOKEN=<token> node audit.mjs <graphql url>");
  process.exit(2);
}

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    entry.httpStatus = result.response.status;
    entry.contentType = result.response.headers.get("content-type");
    try {
      entry.body = await result.response.text();
    } catch {
      entry.body = null; // the audit read it already
    }
  }
  results.push(entry);
}
process.stdout.write(JSON.stringify(results) + "\n");
