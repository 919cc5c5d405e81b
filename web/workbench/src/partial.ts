// Partial answers: which card a GraphQL error belongs to, by its path, so the page marks that part
// as missing (with the error's code, e.g. BACKEND_TIMEOUT after the deadline) and shows the rest.
export interface ErrorLike {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: unknown } | null;
}

export type Part = "customer" | "accounts" | "tickets" | "history" | "outage" | "other";

const FIELD_PART: Record<string, Part> = {
  accounts: "accounts",
  tickets: "tickets",
  interactions: "history",
  activeOutages: "outage",
  bills: "accounts",
  meter: "accounts",
};

export function partOf(error: ErrorLike): Part {
  const path = error.path ?? [];
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === "string" && segment in FIELD_PART) return FIELD_PART[segment];
  }
  return path.length > 0 ? "customer" : "other";
}

export function codeOf(error: ErrorLike): string {
  const code = error.extensions?.code;
  return typeof code === "string" ? code : "ERROR";
}

/** Missing parts and their codes, e.g. {accounts: ["BACKEND_TIMEOUT"]}. */
export function missingParts(errors: ReadonlyArray<ErrorLike> | undefined): Partial<Record<Part, string[]>> {
  const out: Partial<Record<Part, string[]>> = {};
  for (const error of errors ?? []) {
    const part = partOf(error);
    const codes = (out[part] ??= []);
    if (!codes.includes(codeOf(error))) codes.push(codeOf(error));
  }
  return out;
}

export interface StaleEntry {
  path: ReadonlyArray<string | number>;
  ageSeconds?: number;
  asOf?: string;
}

/** Parts served past their freshness (`extensions.stale`), with the oldest "as of" for each. */
export function staleParts(extensions: unknown): Partial<Record<Part, string>> {
  const stale = (extensions as { stale?: StaleEntry[] } | null | undefined)?.stale ?? [];
  const out: Partial<Record<Part, string>> = {};
  for (const entry of stale) {
    const part = partOf({ message: "", path: entry.path });
    const asOf = entry.asOf ?? "";
    if (!(part in out) || asOf < (out[part] ?? "")) out[part] = asOf;
  }
  return out;
}

/** The objects a list holds: a customer or account that access control refused, or that failed, is
 * null in its list (its error names its path, and `missingParts` marks its card), never the list. */
export function present<T>(items: ReadonlyArray<T | null> | null | undefined): T[] {
  return (items ?? []).filter((item): item is T => item !== null);
}
