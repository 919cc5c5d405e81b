// The supervisor's board: sign in, then poll the SupervisorBoard persisted query every 2 s.
import { type Board, type BoardAnswer, fetchBoard, signIn, type Token } from "./api";
import { Charts } from "./charts";
import { lang, setLang, t } from "./i18n";
import "./style.css";

const POLL_MS = 2000;
let token: Token | null = null;
let charts: Charts | null = null;
let last: BoardAnswer | null = null;
let timer: number | undefined;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

function cell(row: HTMLTableRowElement, text: string, attrs: Record<string, string> = {}): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
  return td;
}

function fill(tableId: string, rows: ((row: HTMLTableRowElement) => void)[], empty: string): void {
  const body = byId<HTMLTableElement>(tableId).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const row = body.insertRow();
    const td = cell(row, t(empty));
    td.colSpan = 8;
    td.className = "muted";
    return;
  }
  for (const draw of rows) draw(body.insertRow());
}

const ms = (v: number | null): string => (v === null ? "–" : `${Math.round(v)} ${t("ms")}`);
const fixed = (v: number | null, digits = 1): string => (v === null ? "–" : v.toFixed(digits));

function render(answer: BoardAnswer): void {
  last = answer;
  const board: Board | null | undefined = answer.data?.supervisorBoard;
  const problems = (answer.errors ?? []).map((e) => `${(e.path ?? []).join(".")} ${e.extensions?.code ?? ""}`);
  byId("board-error").textContent = problems.length ? t("boardError") + problems.join("; ") : "";
  if (!board) return;
  byId("ringing").textContent = String(board.ringing);
  byId("answered").textContent = String(board.answered);
  byId("calls-minute").textContent = String(board.callsLastMinute);
  byId("pop-p50").textContent = ms(board.popP50Ms);
  byId("pop-p99").textContent = ms(board.popP99Ms);
  byId("pops").textContent = String(board.popsCounted);
  byId("updated").textContent = `${t("updated")} ${new Date(board.at).toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB")}`;
  fill(
    "agents",
    board.agents.map((a) => (row) => {
      row.dataset.agent = a.agentId;
      cell(row, a.agentId);
      cell(row, t(a.state), { "data-state": a.state, class: `state ${a.state.toLowerCase()}` });
      cell(row, a.callId ?? "–");
      cell(row, a.secondsInState === null ? "–" : `${Math.round(a.secondsInState)} s`);
    }),
    "noAgents",
  );
  fill(
    "backends",
    board.backends.map((b) => (row) => {
      row.dataset.backend = b.name;
      cell(row, t(b.name));
      cell(row, t(b.status), { class: `status ${b.status}` });
      cell(row, t(b.breaker ?? "none"), { "data-breaker": b.breaker ?? "none", class: `breaker ${b.breaker ?? "none"}` });
      cell(row, b.failureRate === null ? "–" : `${b.failureRate.toFixed(0)}%`);
      cell(row, b.maxConcurrent === null ? "–" : `${b.inFlight}/${b.maxConcurrent} (${b.peakInFlight})`);
      cell(row, b.maxRps === null ? fixed(b.recentRps) : `${fixed(b.recentRps)}/${fixed(b.maxRps, 0)}`);
      cell(row, String(b.shedByBudget + b.shedByBulkhead));
    }),
    "none",
  );
  fill(
    "caches",
    board.caches.map((c) => (row) => {
      cell(row, t(c.family === "outages" ? "outages_family" : c.family));
      cell(row, String(c.hits));
      cell(row, String(c.misses));
      cell(row, String(c.staleServes));
      cell(row, c.secondsSinceStale === null ? t("never") : `${Math.round(c.secondsSinceStale)} ${t("secondsAgo")}`);
    }),
    "none",
  );
  if (board.outages === null) {
    fill("outages", [], "unavailable");
  } else {
    fill(
      "outages",
      board.outages.map((o) => (row) => {
        row.dataset.outage = o.outage.id;
        cell(row, o.outage.id);
        cell(row, t(o.outage.kind));
        cell(row, o.outage.reason ?? "–");
        cell(row, o.outage.estimatedRestoreAt ? new Date(o.outage.estimatedRestoreAt).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB") : "–");
        cell(row, o.callIds.length ? `${o.calls} (${o.callIds.join(", ")})` : "0", { "data-calls": String(o.calls) });
        cell(row, String(o.ivrAnswered), { "data-ivr": String(o.ivrAnswered) });
      }),
      "noOutages",
    );
  }
  charts?.update(board.callsPerMinute, board.popP50Ms, board.popP99Ms, Date.parse(board.at));
  describeCharts(board);
}

function describeCharts(board: Board): void {
  byId("calls-figure").setAttribute("aria-label", `${t("callsChart")}: ${board.callsPerMinute.join(", ")}`);
  byId("pop-figure").setAttribute("aria-label", `${t("popChart")}: p50 ${ms(board.popP50Ms)}, p99 ${ms(board.popP99Ms)}`);
}

async function poll(): Promise<void> {
  if (!token) return;
  try {
    if (token.expiresAt - Date.now() < 60_000) token = await refresh();
    render(await fetchBoard(token));
  } catch (exc) {
    byId("board-error").textContent = t("boardError") + String(exc);
  }
  timer = window.setTimeout(poll, POLL_MS);
}

let credentials: [string, string] | null = null;

async function refresh(): Promise<Token> {
  if (!credentials) throw new Error("signed out");
  return signIn(...credentials);
}

function start(): void {
  byId("signin").hidden = true;
  byId("board").hidden = false;
  byId("signout").hidden = false;
  charts ??= new Charts(byId("calls-chart"), byId("pop-chart"));
  void poll();
}

function stop(): void {
  window.clearTimeout(timer);
  token = null;
  credentials = null;
  byId("board").hidden = true;
  byId("signout").hidden = true;
  byId("signin").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  setLang("zh");
  byId("lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    charts?.relabel();
    if (last) render(last);
  });
  byId("signout").addEventListener("click", stop);
  byId<HTMLFormElement>("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = byId<HTMLInputElement>("client-id").value;
    const secret = byId<HTMLInputElement>("client-secret").value;
    try {
      token = await signIn(id, secret);
      credentials = [id, secret];
      byId("signin-error").textContent = "";
      start();
    } catch (exc) {
      byId("signin-error").textContent = t("signInFailed") + String(exc);
    }
  });
});
