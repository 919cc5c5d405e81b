// Callers Tidegate does not know (a new number, a withheld one, a neighbour's landline) are a normal
// path, not an error: the pop says "not identified" and the agent identifies the caller here. Search
// by 户号, name or address (candidates come back masked, each with an id sealed to this call), verify
// with the caller's answers (last four of the ID number, the street; checked server-side), then bind
// the call with a reason (audited). The BFF then pushes a new pop with the customer on `screenPop`.
import { useEffect, useState } from "preact/hooks";
import { client } from "./client";
import type {
  BindCallerMutation,
  CallerMatchQuery,
  IdentificationCandidatesQuery,
  VerifyCallerMutation,
} from "./generated/graphql";
import { t, type Lang } from "./i18n";
import { BIND_CALLER, CALLER_MATCH, CANDIDATES, VERIFY_CALLER } from "./ops";
import { codeOf, type ErrorLike } from "./partial";

type Candidate = NonNullable<IdentificationCandidatesQuery["identificationCandidates"]>[number];
type Match = NonNullable<CallerMatchQuery["callerMatch"]>;

const LOCKED = "IDENTIFICATION_LOCKED";

function errorsOf(result: { errors?: ReadonlyArray<unknown> }): ErrorLike[] {
  return (result.errors as ErrorLike[] | undefined) ?? [];
}

function describe(errors: ErrorLike[]): string {
  return errors.map((e) => `${codeOf(e)}: ${e.message}`).join("; ");
}

export function IdentifyPanel(props: { lang: Lang; callId: string }) {
  const { lang, callId } = props;
  const [match, setMatch] = useState<Match | null>(null);
  const [accountNo, setAccountNo] = useState("");
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [candidates, setCandidates] = useState<Candidate[] | null>(null);
  const [chosen, setChosen] = useState<Candidate | null>(null);
  const [last4, setLast4] = useState("");
  const [street, setStreet] = useState("");
  const [attemptsLeft, setAttemptsLeft] = useState<number | null>(null);
  const [verified, setVerified] = useState(false);
  const [locked, setLocked] = useState(false);
  const [reason, setReason] = useState("");
  const [bound, setBound] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Where the call stands (NO_MATCH, still searching, WITHHELD): asked once the pop is on screen.
  useEffect(() => {
    let gone = false;
    client
      .query<CallerMatchQuery>({ query: CALLER_MATCH })
      .then((r) => {
        if (!gone && r.data?.callerMatch?.callId === callId) setMatch(r.data.callerMatch);
      })
      .catch((exc) => !gone && setError(String(exc)));
    return () => {
      gone = true;
    };
  }, [callId]);

  /** One request at a time; a coded refusal shows as text, IDENTIFICATION_LOCKED locks the panel. */
  const run = async <T,>(ask: () => Promise<{ data?: T | null; errors?: ReadonlyArray<unknown> }>) => {
    if (busy) return null;
    setBusy(true);
    try {
      const result = await ask();
      const errors = errorsOf(result);
      if (errors.some((e) => codeOf(e) === LOCKED)) setLocked(true);
      setError(errors.length ? describe(errors) : null);
      return errors.length ? null : (result.data ?? null);
    } catch (exc) {
      setError(String(exc));
      return null;
    } finally {
      setBusy(false);
    }
  };

  const search = async () => {
    const byAccount = accountNo.trim();
    const variables = byAccount
      ? { accountNo: byAccount, name: null, address: null }
      : { accountNo: null, name: name.trim() || null, address: address.trim() || null };
    const data = await run(() => client.query<IdentificationCandidatesQuery>({ query: CANDIDATES, variables }));
    setChosen(null);
    setVerified(false);
    setCandidates(data?.identificationCandidates ?? (data ? [] : null));
  };

  const verify = async () => {
    if (!chosen) return;
    const input = { candidateId: chosen.candidateId, idCardLast4: last4.trim(), street: street.trim() };
    const data = await run(() => client.mutate<VerifyCallerMutation>({ mutation: VERIFY_CALLER, variables: { input } }));
    const answer = data?.verifyCaller;
    if (!answer) return;
    setVerified(answer.verified);
    setAttemptsLeft(answer.verified ? null : answer.attemptsLeft);
    if (answer.locked) setLocked(true);
  };

  const bind = async () => {
    if (!chosen) return;
    const input = { candidateId: chosen.candidateId, reason: reason.trim() };
    const data = await run(() => client.mutate<BindCallerMutation>({ mutation: BIND_CALLER, variables: { input } }));
    if (data?.bindCaller) setBound(true); // the pushed pop replaces this panel
  };

  const status = match?.status ?? "NO_MATCH";
  const canSearch = !busy && !locked && (accountNo.trim() !== "" || name.trim() !== "" || address.trim() !== "");
  return (
    <section
      class="card identify"
      data-testid="no-match"
      data-status={status}
      aria-label={t(lang, "unidentified")}
    >
      <h3>{t(lang, "unidentified")}</h3>
      {status === "WITHHELD" && <p class="hint">{t(lang, "withheld")}</p>}
      {match?.searching && (
        <p class="hint" data-testid="searching">
          {t(lang, "searching")}
        </p>
      )}
      {locked && (
        <p class="refused" role="alert" data-testid="identify-locked">
          {t(lang, "locked")}
        </p>
      )}
      <form class="identify-search" onSubmit={(e) => (e.preventDefault(), canSearch && void search())}>
        <label>
          {t(lang, "accountNo")}
          <input value={accountNo} disabled={locked} onInput={(e) => setAccountNo(e.currentTarget.value)} />
        </label>
        <label>
          {t(lang, "holderName")}
          <input value={name} disabled={locked} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          {t(lang, "address")}
          <input value={address} disabled={locked} onInput={(e) => setAddress(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={!canSearch}>
          {t(lang, "search")}
        </button>
      </form>
      {candidates && (
        <ul class="candidates" aria-label={t(lang, "candidates")} data-testid="candidates">
          {candidates.length === 0 && <li>{t(lang, "noCandidates")}</li>}
          {candidates.map((c) => (
            <li data-testid="candidate" class={chosen?.candidateId === c.candidateId ? "chosen" : ""}>
              <span class="masked">
                {c.accountNo} · {c.holderName} · {c.address ?? "—"}
              </span>{" "}
              <button
                type="button"
                disabled={locked || verified}
                onClick={() => (setChosen(c), setAttemptsLeft(null), setError(null))}
              >
                {t(lang, "choose")}
              </button>
            </li>
          ))}
        </ul>
      )}
      {chosen && !verified && (
        <form class="dialog" data-testid="verify-form" onSubmit={(e) => (e.preventDefault(), void verify())}>
          <label>
            {t(lang, "idLast4")}
            <input value={last4} maxLength={4} disabled={locked} onInput={(e) => setLast4(e.currentTarget.value)} />
          </label>
          <label>
            {t(lang, "street")}
            <input value={street} disabled={locked} onInput={(e) => setStreet(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy || locked || last4.trim().length !== 4 || !street.trim()}>
            {t(lang, "verify")}
          </button>
        </form>
      )}
      {attemptsLeft !== null && !locked && (
        <p class="refused" role="alert" data-testid="wrong-answer">
          {t(lang, "wrongAnswer")}: {attemptsLeft}
        </p>
      )}
      {chosen && verified && (
        <form class="dialog" data-testid="bind-form" onSubmit={(e) => (e.preventDefault(), void bind())}>
          <span class="created">{t(lang, "verified")}</span>
          <label>
            {t(lang, "bindReason")}
            <input value={reason} maxLength={200} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy || bound || !reason.trim()}>
            {t(lang, "bind")}
          </button>
        </form>
      )}
      {bound && (
        <p class="created" role="status" data-testid="bound">
          {t(lang, "bound")}
        </p>
      )}
      {error && (
        <p class="error" role="alert" data-testid="identify-error">
          {error}
        </p>
      )}
    </section>
  );
}
