// The screen pop's cards: the customer (masked as the agent's scopes say, with "reveal"), accounts
// with balance, arrears and late fees, the last bills with tier lines, meter and reads, open tickets,
// CRM history, and a red banner when the premise is inside an active outage. A part the answer lacks
// is marked with its code; the rest still shows (never a blank screen).
import { useEffect, useState } from "preact/hooks";
import type {
  RevealCustomerPiiMutation,
  WorkbenchAccountQuery,
  WorkbenchPopSubscription,
} from "./generated/graphql";
import { client } from "./client";
import type { Lang, LabelKey } from "./i18n";
import { t } from "./i18n";
import { ACCOUNT, REVEAL_PII } from "./ops";
import { codeOf, missingParts, present, staleParts, type ErrorLike, type Part } from "./partial";

export type Pop = WorkbenchPopSubscription["screenPop"];
export type PopCustomer = NonNullable<NonNullable<Pop["customers"]>[number]>;
type Account = NonNullable<NonNullable<PopCustomer["accounts"]>[number]>;
type Revealed = RevealCustomerPiiMutation["revealCustomerPii"];

function Missing(props: { lang: Lang; codes?: string[] }) {
  if (!props.codes?.length) return null;
  return (
    <p class="missing" role="note" data-testid="missing">
      ⚠ {t(props.lang, "missing")} ({props.codes.join(", ")})
    </p>
  );
}

function Card(props: {
  lang: Lang;
  title: LabelKey;
  part: Part;
  missing: Partial<Record<Part, string[]>>;
  stale: Partial<Record<Part, string>>;
  children?: unknown;
}) {
  const codes = props.missing[props.part];
  const staleAsOf = props.stale[props.part];
  return (
    <section
      class={`card${codes?.length ? " partial" : ""}`}
      aria-label={t(props.lang, props.title)}
      data-card={props.part}
      data-partial={codes?.length ? "true" : "false"}
      data-stale={staleAsOf !== undefined ? "true" : "false"}
    >
      <h3>{t(props.lang, props.title)}</h3>
      <Missing lang={props.lang} codes={codes} />
      {staleAsOf !== undefined && (
        <p class="missing" role="note" data-testid="stale-part">
          ⚠ {t(props.lang, "stale")} ({staleAsOf.slice(11, 16)})
        </p>
      )}
      {props.children as never}
    </section>
  );
}

export function RevealDialog(props: {
  lang: Lang;
  customerId: string;
  onRevealed: (r: Revealed) => void;
  onClose: () => void;
}) {
  const { lang, customerId, onRevealed, onClose } = props;
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    const result = await client.mutate<RevealCustomerPiiMutation>({
      mutation: REVEAL_PII,
      variables: { customerId, reason },
    });
    if (result.errors?.length) {
      setError(result.errors.map((e) => `${codeOf(e as ErrorLike)}: ${e.message}`).join("; "));
    } else if (result.data) {
      onRevealed(result.data.revealCustomerPii);
    }
  };
  return (
    <div class="dialog" role="dialog" aria-modal="true" aria-label={t(lang, "reveal")} data-testid="reveal-dialog">
      <label>
        {t(lang, "revealReason")}
        <input
          autoFocus
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && reason.trim() && void confirm()}
        />
      </label>
      <button type="button" onClick={confirm} disabled={!reason.trim()}>
        {t(lang, "confirm")}
      </button>
      <button type="button" onClick={onClose}>
        {t(lang, "cancel")}
      </button>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

function Money(props: { value?: { yuan: string } | null }) {
  return <span class="money">{props.value ? `¥${props.value.yuan}` : "—"}</span>;
}

function AccountDetail(props: { lang: Lang; accountNo: string; onRendered: () => void }) {
  const { lang, accountNo, onRendered } = props;
  const [detail, setDetail] = useState<WorkbenchAccountQuery["account"] | null>(null);
  const [errors, setErrors] = useState<ErrorLike[]>([]);
  useEffect(() => {
    let live = true;
    void client
      .query<WorkbenchAccountQuery>({ query: ACCOUNT, variables: { accountNo } })
      .then((r) => {
        if (!live) return;
        setDetail(r.data?.account ?? null);
        setErrors((r.errors as ErrorLike[] | undefined) ?? []);
      })
      .catch((e) => live && setErrors([{ message: String(e) }]));
    return () => {
      live = false;
    };
  }, [accountNo]);
  useEffect(() => {
    if (detail || errors.length) onRendered();
  }, [detail, errors]);
  const codes = errors.map(codeOf);
  return (
    <div class="detail" data-testid="account-detail" data-account={accountNo}>
      {codes.length > 0 && <Missing lang={lang} codes={[...new Set(codes)]} />}
      {detail?.bills && (
        <table class="bills" aria-label={t(lang, "bills")}>
          <caption>{t(lang, "bills")}</caption>
          <tbody>
            {detail.bills.map((b) => (
              <tr>
                <td>{b.period}</td>
                <td>{b.usageM3} m³</td>
                <td>
                  <Money value={b.total} />
                </td>
                <td>{b.status}</td>
                <td class="tiers">
                  {b.tiers.map((l) => (
                    <span class="tier">
                      {t(lang, "tier")}
                      {l.tier}: {l.volumeM3} m³ × ¥{l.unitPrice.yuan} = ¥{l.amount.yuan}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {detail?.meter && (
        <p class="meter" aria-label={t(lang, "meter")}>
          {t(lang, "meter")}: {detail.meter.meterNo} DN{detail.meter.sizeMm ?? "?"} ·{" "}
          {detail.meter.reads.map((r) => `${r.readAt?.slice(0, 10) ?? "?"} ${r.reading} (${r.usageM3} m³, ${r.status})`).join(" · ")}
        </p>
      )}
    </div>
  );
}

function AccountRow(props: { lang: Lang; account: Account; onDetail: () => void }) {
  const { lang, account: a } = props;
  return (
    <li class="account" data-account={a.accountNo}>
      <div class="account-head">
        <strong>{a.accountNo}</strong> <span class="masked">{a.address}</span> · {a.status} · {t(lang, "tier")}{" "}
        {a.currentTier ?? "—"}
        {a.freshness?.stale && (
          <span class="stale" data-testid="stale" title={a.freshness.asOf}>
            {" "}
            ⚠ {t(lang, "stale")} ({a.freshness.asOf.slice(11, 16)})
          </span>
        )}
      </div>
      <dl class="figures">
        <dt>{t(lang, "balance")}</dt>
        <dd>
          <Money value={a.balance} />
        </dd>
        <dt>{t(lang, "arrears")}</dt>
        <dd class={a.arrears && Number(a.arrears.yuan) > 0 ? "owing" : ""}>
          <Money value={a.arrears} />
        </dd>
        <dt>{t(lang, "lateFee")}</dt>
        <dd>
          <Money value={a.lateFee} />
        </dd>
        <dt>{t(lang, "amountDue")}</dt>
        <dd>
          <Money value={a.amountDue} />
        </dd>
      </dl>
      <AccountDetail lang={lang} accountNo={a.accountNo} onRendered={props.onDetail} />
    </li>
  );
}

export function PopCards(props: {
  lang: Lang;
  pop: Pop;
  errors: ReadonlyArray<ErrorLike>;
  extensions: unknown;
  revealOpen: boolean;
  setRevealOpen: (open: boolean) => void;
  onRendered: () => void;
  onDetail: () => void;
}) {
  const { lang, pop, errors, revealOpen, setRevealOpen } = props;
  const missing = missingParts(errors);
  const stale = staleParts(props.extensions);
  const customers = present(pop.customers);
  const [revealed, setRevealed] = useState<Record<string, Revealed>>({});
  useEffect(() => {
    props.onRendered();
  }, [pop, errors]);
  const outages = customers.flatMap((c) => c.activeOutages ?? []);
  return (
    <div class="pop" data-testid="pop" data-call-id={pop.callId}>
      {outages.map((o) => (
        <div class="outage-banner" role="alert" data-testid="outage-banner" data-outage-id={o.id}>
          {t(lang, "outage")}: {o.kind} · {o.reason ?? ""} · {t(lang, "restoreAt")}{" "}
          {o.estimatedRestoreAt?.slice(0, 16).replace("T", " ") ?? "—"}
        </div>
      ))}
      <Missing lang={lang} codes={missing.other} />
      {/* No customer: main.tsx shows the identification panel (identify.tsx) instead. */}
      {customers.map((c, index) => {
        const shown = revealed[c.id];
        return (
          <div class="customer-grid">
            <Card lang={lang} title="customer" part="customer" missing={missing} stale={stale}>
              <dl class="who">
                <dt>{t(lang, "customer")}</dt>
                <dd data-testid="customer-name" class={shown ? "revealed" : "masked"}>
                  {shown ? shown.name : c.name} {c.vip && <span class="vip">VIP</span>}
                </dd>
                <dt>{t(lang, "mobile")}</dt>
                <dd data-testid="customer-mobile" class={shown ? "revealed" : "masked"}>
                  {shown ? shown.mobile : c.mobile}
                </dd>
                <dt>{t(lang, "idCard")}</dt>
                <dd data-testid="customer-idcard" class={shown ? "revealed" : "masked"}>
                  {shown ? shown.idCard : c.idCard}
                </dd>
              </dl>
              <p class="tags">
                {c.id} · {c.kind ?? ""} {(c.tags ?? []).join(" ")}
              </p>
              {!shown && index === 0 && (
                <button type="button" onClick={() => setRevealOpen(true)} aria-keyshortcuts="Alt+R">
                  {t(lang, "reveal")}
                </button>
              )}
              {revealOpen && index === 0 && (
                <RevealDialog
                  lang={lang}
                  customerId={c.id}
                  onRevealed={(r) => {
                    setRevealed({ ...revealed, [c.id]: r });
                    setRevealOpen(false);
                  }}
                  onClose={() => setRevealOpen(false)}
                />
              )}
            </Card>
            <Card lang={lang} title="accounts" part="accounts" missing={missing} stale={stale}>
              <ul class="accounts">
                {present(c.accounts).map((a) => (
                  <AccountRow lang={lang} account={a} onDetail={props.onDetail} />
                ))}
              </ul>
            </Card>
            <Card lang={lang} title="tickets" part="tickets" missing={missing} stale={stale}>
              <ul>
                {(c.tickets ?? []).map((tk) => (
                  <li>
                    {tk.id} · {tk.category} · {tk.status} · <span class="masked">{tk.description}</span>
                  </li>
                ))}
                {c.tickets?.length === 0 && <li>{t(lang, "none")}</li>}
              </ul>
            </Card>
            <Card lang={lang} title="history" part="history" missing={missing} stale={stale}>
              <ul>
                {(c.interactions ?? []).map((i) => (
                  <li>
                    {i.at.slice(0, 10)} · {i.channel} · {i.type} · {i.outcome} · <span class="masked">{i.summary}</span>
                  </li>
                ))}
                {c.interactions?.length === 0 && <li>{t(lang, "none")}</li>}
              </ul>
            </Card>
          </div>
        );
      })}
    </div>
  );
}
