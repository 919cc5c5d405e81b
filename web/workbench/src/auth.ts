// The access token lives in memory only (never localStorage: a page script cannot leak what it never
// stored) and is asked for again before it expires. In the demo it comes from the embedded issuer.
type Listener = (token: string | null) => void;

let token: string | null = null;
let timer: number | undefined;
const listeners = new Set<Listener>();

export function currentToken(): string | null {
  return token;
}

export function onToken(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(value: string | null): void {
  token = value;
  listeners.forEach((l) => l(value));
}

/** Signs in as `agentId` with the demo issuer; refreshes at 80 % of the token's life. */
export async function signInDemo(agentId: string): Promise<void> {
  const answer = await fetch("/workbench/demo/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ agentId }),
  });
  if (!answer.ok) throw new Error(`sign-in refused (${answer.status})`);
  const body = (await answer.json()) as { access_token: string; expires_in: number };
  publish(body.access_token);
  window.clearTimeout(timer);
  timer = window.setTimeout(() => void signInDemo(agentId), body.expires_in * 800);
}

export function signOut(): void {
  window.clearTimeout(timer);
  publish(null);
}
