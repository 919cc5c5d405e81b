// The agent workbench: sign-in (the demo's issuer), the softphone bar, the screen pop pushed on ring
// (graphql-ws, by persisted id), the call's actions and wrap-up. After the call ends the customer's
// data leaves the screen, and a forced re-read shows the BFF's refusal.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { currentToken, onToken, signInDemo, signOut } from "./auth";
import { client, socket } from "./client";
import { pageConfig } from "./config";
import { FeeForm, NoteForm, TicketForm, WrapUpForm } from "./forms";
import type { WorkbenchAccountQuery, WorkbenchCallSubscription, WorkbenchPopSubscription } from "./generated/graphql";
import { t, type Lang } from "./i18n";
import { IdentifyPanel } from "./identify";
import { ACCOUNT, CALL, POP } from "./ops";
import { codeOf, present, type ErrorLike } from "./partial";
import { PopCards, type Pop } from "./pop";
import { demoCti } from "./softphone";

type Phase = "idle" | "ringing" | "oncall" | "wrapup";

interface Timing {
  callId: string;
  popMs: number;
  detailMs?: number;
  prefetched: boolean;
}

// What the tests and the benchmark read: ring-to-rendered times measured here, at the glass.
const probe: { timings: Timing[]; ring?: (customerNo: string) => Promise<boolean> } = { timings: [] };
(window as unknown as { __workbench: typeof probe }).__workbench = probe;

const config = pageConfig();

function App() {
  const [lang, setLang] = useState<Lang>("zh");
  const [agentId, setAgentId] = useState(config.agents?.[0] ?? "");
  const [token, setToken] = useState<string | null>(currentToken());
  const [phase, setPhase] = useState<Phase>("idle");
  const [pop, setPop] = useState<Pop | null>(null);
  const [popErrors, setPopErrors] = useState<ErrorLike[]>([]);
  const [popExtensions, setPopExtensions] = useState<unknown>(null);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [callerNo, setCallerNo] = useState(config.callers?.[0] ?? "2");
  const [revealOpen, setRevealOpen] = useState(false);
  const [panel, setPanel] = useState<"ticket" | "fee" | "note" | null>(null);
  const [cleared, setCleared] = useState<{ accountNo: string | null } | null>(null);
  const [reread, setReread] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const rings = useRef(new Map<string, number>()); // callId -> performance.now() at "ring me"
  const timing = useRef<Timing | null>(null);
  const pendingDetails = useRef(0);

  // What the keyboard handler and the call buttons act on: this render's state, read when they run
  // (a shortcut pressed just after a render must not see the render before it).
  const live = useRef({ phase, pop, lang });
  live.current = { phase, pop, lang };

  useEffect(() => onToken(setToken), []);

  // The screen pop stream, for as long as the agent is signed in.
  useEffect(() => {
    if (!token || !agentId) return;
    const sub = client
      // no-cache: the caller's PII lives in component state only, gone with the call.
      .subscribe<WorkbenchPopSubscription>({ query: POP, variables: { agentId }, errorPolicy: "all", fetchPolicy: "no-cache" })
      .subscribe({
        next: (result) => {
          const next = result.data?.screenPop;
          if (!next) {
            setStreamError((result.errors ?? []).map((e) => `${codeOf(e as ErrorLike)}: ${e.message}`).join("; "));
            return;
          }
          setStreamError(null);
          setCleared(null);
          setReread(null);
          setPanel(null);
          setPop(next);
          setPopErrors((result.errors as ErrorLike[] | undefined) ?? []);
          setPopExtensions(result.extensions ?? null); // extensions.stale: parts served past freshness
          // A new pop for the call on screen (the agent bound the caller, or billing matched late)
          // keeps the call where it is, and ring-to-rendered stays its first pop's; a new call rings.
          const same = live.current.pop?.callId === next.callId;
          live.current = { ...live.current, pop: next };
          if (same) return;
          setPhase("ringing");
          const started = rings.current.get(next.callId);
          pendingDetails.current = present(next.customers).reduce((n, c) => n + present(c.accounts).length, 0);
          timing.current = started === undefined ? null : { callId: next.callId, popMs: -started, prefetched: next.prefetched };
        },
        error: (e) => setStreamError(String(e?.message ?? e)),
      });
    return () => sub.unsubscribe();
  }, [token, agentId]);

  // The softphone bar follows the CTI, whoever answered or hung up (the phone, the switch, this page).
  useEffect(() => {
    if (!token || !agentId) return;
    const sub = client
      .subscribe<WorkbenchCallSubscription>({ query: CALL, variables: { agentId }, fetchPolicy: "no-cache" })
      .subscribe({
        next: (result) => {
          const update = result.data?.callUpdated;
          const { phase, pop } = live.current;
          if (!update || !pop || update.callId !== pop.callId) return;
          if (update.state === "ANSWERED" && phase === "ringing") setPhase("oncall");
          if (update.state === "ENDED") void clearCall(update.callId);
        },
        error: (e) => setStreamError(String(e?.message ?? e)),
      });
    return () => sub.unsubscribe();
  }, [token, agentId]);

  const popRendered = () => {
    const current = timing.current;
    if (!current || current.popMs >= 0) return;
    const started = -current.popMs;
    requestAnimationFrame(() => {
      current.popMs = performance.now() - started;
      probe.timings.push(current);
      if (pendingDetails.current === 0) current.detailMs = current.popMs;
    });
  };
  const detailRendered = () => {
    const current = timing.current;
    pendingDetails.current -= 1;
    if (current && pendingDetails.current === 0 && current.popMs >= 0) {
      const started = rings.current.get(current.callId) ?? 0;
      requestAnimationFrame(() => (current.detailMs = performance.now() - started));
    }
  };

  const signIn = async () => {
    try {
      await signInDemo(agentId);
      setNotice(null);
    } catch (exc) {
      setNotice(String(exc));
    }
  };
  const ringMe = async (customerNo: string = callerNo) => {
    const started = performance.now();
    const callId = `wb-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    rings.current.set(callId, started);
    try {
      await demoCti("CALL_RINGING", agentId, callId, customerNo);
      return true;
    } catch (exc) {
      setNotice(String(exc));
      return false;
    }
  };
  probe.ring = ringMe; // the benchmark rings many different callers, not only the list's few
  const answer = async () => {
    const { phase, pop } = live.current;
    if (phase !== "ringing" || !pop) return;
    await demoCti("CALL_ANSWERED", agentId, pop.callId);
    setPhase("oncall");
  };
  const endCall = async () => {
    const { pop } = live.current;
    if (!pop) return;
    await demoCti("CALL_ENDED", agentId, pop.callId);
    await clearCall(pop.callId);
  };
  /** Least privilege, visible: the customer's data leaves the screen with the call (once). */
  const clearCall = async (callId: string) => {
    const { pop } = live.current;
    if (!pop || pop.callId !== callId) return;
    live.current = { ...live.current, pop: null };
    const accountNo = present(present(pop.customers)[0]?.accounts)[0]?.accountNo ?? null;
    await client.clearStore(); // nothing of the caller's stays in the client either
    setPop(null);
    setPopErrors([]);
    setPanel(null);
    setRevealOpen(false);
    setPhase("idle");
    setCleared({ accountNo });
  };
  const tryReread = async () => {
    if (!cleared?.accountNo) return;
    const r = await client.query<WorkbenchAccountQuery>({ query: ACCOUNT, variables: { accountNo: cleared.accountNo } });
    const errors = (r.errors as ErrorLike[] | undefined) ?? [];
    setReread(
      errors.length
        ? `${t(lang, "refused")}: ${errors.map(codeOf).join(", ")}`
        : r.data?.account
          ? "!"
          : `${t(lang, "refused")}`,
    );
  };

  // Keyboard first: Alt+A answer, Alt+R reveal, Alt+N new ticket, Alt+W wrap-up, Alt+L language.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey) return;
      const { phase, pop, lang } = live.current;
      const actions: Record<string, () => void> = {
        a: () => void answer(),
        r: () => pop && setRevealOpen(true),
        n: () => pop && setPanel("ticket"),
        w: () => pop && phase === "oncall" && setPhase("wrapup"),
        l: () => setLang(lang === "zh" ? "en" : "zh"),
      };
      const action = actions[event.code.replace("Key", "").toLowerCase()]; // code: Alt changes `key` on a Mac
      if (action) {
        event.preventDefault();
        action();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [agentId]);

  const customer = present(pop?.customers)[0] ?? null;
  const account = present(customer?.accounts)[0] ?? null;
  const phaseLabel = { idle: t(lang, "idle"), ringing: t(lang, "ringing"), oncall: t(lang, "onCall"), wrapup: t(lang, "wrapUp") }[phase];
  const last = probe.timings[probe.timings.length - 1];

  return (
    <div class="workbench" lang={lang === "zh" ? "zh-CN" : "en"}>
      <header class="top">
        <h1>Tidegate · {t(lang, "title")}</h1>
        <button type="button" onClick={() => setLang(lang === "zh" ? "en" : "zh")} aria-label="中文 / English" aria-keyshortcuts="Alt+L">
          {lang === "zh" ? "English" : "中文"}
        </button>
        {config.demo && (
          <form class="signin" onSubmit={(e) => (e.preventDefault(), void signIn())}>
            <label>
              {t(lang, "agent")}
              <select aria-label={t(lang, "agent")} value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)} disabled={!!token}>
                {(config.agents ?? []).map((a) => (
                  <option value={a}>{a}</option>
                ))}
              </select>
            </label>
            {token ? (
              <button type="button" onClick={() => signOut()}>
                {t(lang, "signOut")}
              </button>
            ) : (
              <button type="submit">{t(lang, "signIn")}</button>
            )}
          </form>
        )}
      </header>

      <div class={`softphone phase-${phase}`} role="region" aria-label="softphone">
        <span class="phase" role="status" aria-live="assertive" data-testid="phase" data-phase={phase}>
          {phaseLabel}
        </span>
        {pop && phase !== "idle" && (
          <span class="caller">
            {t(lang, "caller")}: <span class="masked">{pop.caller ?? "—"}</span> · {pop.callId}
            {pop.prefetched && <span class="badge">{t(lang, "prefetched")}</span>}
          </span>
        )}
        {phase === "ringing" && (
          <button type="button" class="answer" onClick={answer} aria-keyshortcuts="Alt+A">
            {t(lang, "answer")}
          </button>
        )}
        {(phase === "oncall" || phase === "ringing") && (
          <button type="button" class="hangup" onClick={endCall}>
            {t(lang, "hangUp")}
          </button>
        )}
        {phase === "oncall" && (
          <button type="button" onClick={() => setPhase("wrapup")} aria-keyshortcuts="Alt+W">
            {t(lang, "wrapUp")}
          </button>
        )}
        {config.demo && token && phase === "idle" && (
          <span class="ringme">
            <label>
              {t(lang, "customer")}
              <select aria-label={t(lang, "customer")} value={callerNo} onChange={(e) => setCallerNo(e.currentTarget.value)}>
                {(config.callers ?? []).map((c) => (
                  <option value={c}>#{c}</option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => void ringMe()}>
              {t(lang, "ringMe")}
            </button>
          </span>
        )}
        {last && (
          <span class="timing" data-testid="pop-timing">
            {t(lang, "popIn")} {last.popMs.toFixed(0)} ms
          </span>
        )}
        <span class="keys">{t(lang, "shortcuts")}</span>
      </div>

      {notice && <p class="error" role="alert">{notice}</p>}
      {streamError && <p class="error" role="alert" data-testid="stream-error">{streamError}</p>}

      <main>
        {!token && config.demo && <p class="hint">{t(lang, "signIn")} →</p>}
        {token && !pop && !cleared && <p class="hint">{t(lang, "waiting")}</p>}
        {cleared && (
          <section class="card cleared" data-testid="cleared" aria-label={t(lang, "cleared")}>
            <p>{t(lang, "cleared")}</p>
            {cleared.accountNo && (
              <button type="button" onClick={tryReread}>
                {t(lang, "reread")}
              </button>
            )}
            {reread && (
              <p class="refused" role="alert" data-testid="reread-result">
                {reread}
              </p>
            )}
          </section>
        )}
        {pop && (
          <PopCards
            lang={lang}
            pop={pop}
            errors={popErrors}
            extensions={popExtensions}
            revealOpen={revealOpen}
            setRevealOpen={setRevealOpen}
            onRendered={popRendered}
            onDetail={detailRendered}
          />
        )}
        {pop && !customer && phase !== "wrapup" && <IdentifyPanel key={pop.callId} lang={lang} callId={pop.callId} />}
        {pop && customer && phase !== "wrapup" && (
          <nav class="actions" aria-label="actions">
            <button type="button" onClick={() => setPanel("ticket")} aria-keyshortcuts="Alt+N">
              {t(lang, "newTicket")}
            </button>
            <button type="button" onClick={() => setPanel("fee")}>
              {t(lang, "feeAdjustment")}
            </button>
            <button type="button" onClick={() => setPanel("note")}>
              {t(lang, "note")}
            </button>
          </nav>
        )}
        {pop && customer && panel === "ticket" && (
          <TicketForm
            lang={lang}
            customerId={customer.id}
            accountNo={account?.accountNo ?? null}
            center={account?.location ?? null}
          />
        )}
        {pop && customer && panel === "fee" && <FeeForm lang={lang} accounts={present(customer.accounts).map((a) => a.accountNo)} />}
        {pop && customer && panel === "note" && <NoteForm lang={lang} customerId={customer.id} />}
        {pop && phase === "wrapup" && <WrapUpForm lang={lang} customerId={customer?.id ?? null} onDone={endCall} />}
      </main>
    </div>
  );
}

void socket; // opened lazily on the first subscription
const root = document.getElementById("app")!;
root.textContent = ""; // the "Loading…" placeholder
render(<App />, root);
