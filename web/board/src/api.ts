// Sign-in at the BFF's local issuer (client credentials) and the one persisted query, by id.

export interface Token {
  accessToken: string;
  expiresAt: number; // Date.now() ms
}

export async function signIn(clientId: string, secret: string): Promise<Token> {
  const answer = await fetch("/oauth/token", {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${clientId}:${secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.error_description ?? body.error ?? String(answer.status));
  return { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
}

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

export interface BoardAnswer {
  data?: { supervisorBoard: Board | null } | null;
  errors?: GraphQLError[];
}

export interface Board {
  at: string;
  ringing: number;
  answered: number;
  agents: { agentId: string; state: string; callId: string | null; secondsInState: number | null }[];
  callsLastMinute: number;
  callsPerMinute: number[];
  popsCounted: number;
  popP50Ms: number | null;
  popP99Ms: number | null;
  backends: {
    name: string;
    status: string;
    breaker: string | null;
    failureRate: number | null;
    lastOutcome: string | null;
    inFlight: number | null;
    maxConcurrent: number | null;
    peakInFlight: number | null;
    shedByBulkhead: number;
    maxRps: number | null;
    recentRps: number;
    shedByBudget: number;
  }[];
  caches: { family: string; hits: number; misses: number; staleServes: number; secondsSinceStale: number | null }[];
  outages:
    | {
        calls: number;
        callIds: string[];
        ivrAnswered: number;
        outage: { id: string; kind: string; status: string; reason: string | null; estimatedRestoreAt: string | null };
      }[]
    | null;
}

export async function fetchBoard(token: Token): Promise<BoardAnswer> {
  const answer = await fetch("/graphql", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token.accessToken}`,
      "Content-Type": "application/json",
      "apollographql-client-name": "board",
      "apollographql-client-version": "1",
    },
    body: JSON.stringify({ documentId: BOARD_DOCUMENT_ID }),
  });
  return (await answer.json()) as BoardAnswer;
}
