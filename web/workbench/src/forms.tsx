// The call's actions: a repair ticket (its location picked on the mains map), a fee adjustment, an
// interaction note. Each form draws its idempotency key once, when it opens: a double click or a
// retried submit sends the same key, so the back office gets one ticket, one request, one note.
import { useEffect, useState } from "preact/hooks";
import type {
  AddInteractionNoteMutation,
  CreateTicketMutation,
  RequestFeeAdjustmentMutation,
  TicketCategory,
  WorkbenchTicketSubscription,
} from "./generated/graphql";
import { client } from "./client";
import type { Lang } from "./i18n";
import { t } from "./i18n";
import { MainsMap, type Point } from "./mainsMap";
import { ADD_NOTE, CREATE_TICKET, FEE_ADJUSTMENT, TICKET } from "./ops";
import { codeOf, type ErrorLike } from "./partial";

const newKey = () => crypto.randomUUID();

function errorText(errors: ReadonlyArray<ErrorLike> | undefined): string | null {
  return errors && errors.length ? errors.map((e) => `${codeOf(e)}: ${e.message}`).join("; ") : null;
}

/** One submit at a time, and the key fixed for the form's life. */
function useSubmit<T>(run: (key: string) => Promise<{ data?: T | null; errors?: ReadonlyArray<ErrorLike> }>) {
  const [key] = useState(newKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [data, setData] = useState<T | null>(null);
  const submit = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const result = await run(key);
      setError(errorText(result.errors));
      if (result.data) setData(result.data);
    } catch (exc) {
      setError(String(exc));
    } finally {
      setBusy(false);
    }
  };
  return { key, busy, error, data, submit };
}

const CATEGORIES: TicketCategory[] = ["LEAK", "BURST_MAIN", "NO_WATER", "LOW_PRESSURE", "WATER_QUALITY", "METER_FAULT", "OTHER"];

export function TicketForm(props: { lang: Lang; customerId: string; accountNo: string | null; center: Point | null }) {
  const { lang, customerId, accountNo, center } = props;
  const [category, setCategory] = useState<TicketCategory>("LEAK");
  const [description, setDescription] = useState("");
  const [picked, setPicked] = useState<Point | null>(null);
  const form = useSubmit<CreateTicketMutation>((key) =>
    client.mutate<CreateTicketMutation>({
      mutation: CREATE_TICKET,
      variables: {
        idempotencyKey: key,
        input: { category, description, customerId, accountNo, lat: picked?.lat ?? null, lon: picked?.lon ?? null },
      },
    }),
  );
  const created = form.data?.createTicket;
  return (
    <section class="card form" aria-label={t(lang, "newTicket")} data-testid="ticket-form">
      <h3>{t(lang, "newTicket")}</h3>
      <label>
        {t(lang, "category")}
        <select value={category} onChange={(e) => setCategory(e.currentTarget.value as TicketCategory)}>
          {CATEGORIES.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      </label>
      <label>
        {t(lang, "description")}
        <textarea value={description} onInput={(e) => setDescription(e.currentTarget.value)} rows={2} />
      </label>
      {center && (
        <div class="map-field">
          <span>{t(lang, "location")}</span>
          <MainsMap center={center} picked={picked} onPick={setPicked} label={t(lang, "location")} />
        </div>
      )}
      <button type="button" onClick={form.submit} aria-busy={form.busy} disabled={!description.trim() || !!created}>
        {t(lang, "submit")}
      </button>
      {form.error && <p class="error" role="alert">{form.error}</p>}
      {created && <LiveTicket lang={lang} id={created.id} initial={created.status} />}
    </section>
  );
}

/** A filed ticket's status, live from `ticketUpdated` until the crew completes it. */
export function LiveTicket(props: { lang: Lang; id: string; initial: string }) {
  const { lang, id, initial } = props;
  const [status, setStatus] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const sub = client
      .subscribe<WorkbenchTicketSubscription>({
        query: TICKET,
        variables: { ticketId: id },
        errorPolicy: "all",
        fetchPolicy: "no-cache",
      })
      .subscribe({
        next: (r) => {
          if (r.data?.ticketUpdated) setStatus(r.data.ticketUpdated.status);
          setError(errorText(r.errors as ErrorLike[] | undefined));
        },
        error: (e) => setError(String(e?.message ?? e)),
      });
    return () => sub.unsubscribe();
  }, [id]);
  return (
    <p class="created" data-testid="created-ticket" data-ticket-id={id}>
      {t(lang, "created")} {id} · {t(lang, "status")}:{" "}
      <strong data-testid="ticket-status" aria-live="polite">
        {status}
      </strong>
      {error && <span class="error"> ({error})</span>}
    </p>
  );
}

export function FeeForm(props: { lang: Lang; accounts: string[] }) {
  const { lang, accounts } = props;
  const [accountNo, setAccountNo] = useState(accounts[0] ?? "");
  const [amount, setAmount] = useState("-500");
  const [explanation, setExplanation] = useState("");
  const form = useSubmit<RequestFeeAdjustmentMutation>((key) =>
    client.mutate<RequestFeeAdjustmentMutation>({
      mutation: FEE_ADJUSTMENT,
      variables: {
        idempotencyKey: key,
        input: { accountNo, reason: "LATE_FEE_WAIVER", amountFen: Number(amount), explanation },
      },
    }),
  );
  return (
    <section class="card form" aria-label={t(lang, "feeAdjustment")} data-testid="fee-form">
      <h3>{t(lang, "feeAdjustment")}</h3>
      <label>
        {t(lang, "accounts")}
        <select value={accountNo} onChange={(e) => setAccountNo(e.currentTarget.value)}>
          {accounts.map((a) => (
            <option value={a}>{a}</option>
          ))}
        </select>
      </label>
      <label>
        {t(lang, "amountFen")}
        <input type="number" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
      </label>
      <label>
        {t(lang, "reason")}
        <input value={explanation} onInput={(e) => setExplanation(e.currentTarget.value)} />
      </label>
      <button type="button" onClick={form.submit} aria-busy={form.busy} disabled={!explanation.trim() || !!form.data}>
        {t(lang, "submit")}
      </button>
      {form.error && <p class="error" role="alert">{form.error}</p>}
      {form.data && <p class="created">{form.data.requestFeeAdjustment.id} · {form.data.requestFeeAdjustment.status}</p>}
    </section>
  );
}

export function NoteForm(props: { lang: Lang; customerId: string }) {
  const { lang, customerId } = props;
  const [text, setText] = useState("");
  const form = useSubmit<AddInteractionNoteMutation>((key) =>
    client.mutate<AddInteractionNoteMutation>({
      mutation: ADD_NOTE,
      variables: { idempotencyKey: key, input: { customerId, text } },
    }),
  );
  return (
    <section class="card form" aria-label={t(lang, "note")} data-testid="note-form">
      <h3>{t(lang, "note")}</h3>
      <label>
        {t(lang, "note")}
        <textarea value={text} onInput={(e) => setText(e.currentTarget.value)} rows={2} />
      </label>
      <button type="button" onClick={form.submit} aria-busy={form.busy} disabled={!text.trim() || !!form.data}>
        {t(lang, "submit")}
      </button>
      {form.error && <p class="error" role="alert">{form.error}</p>}
      {form.data && <p class="created">{form.data.addInteractionNote.id}</p>}
    </section>
  );
}

export const DISPOSITIONS = ["RESOLVED", "AWAITING_CALLBACK", "TRANSFERRED", "IN_PROGRESS"] as const;

/** Wrap-up: the disposition and a note, written while the call still grants access, then the end. */
export function WrapUpForm(props: { lang: Lang; customerId: string | null; onDone: () => Promise<void> }) {
  const { lang, customerId, onDone } = props;
  const [disposition, setDisposition] = useState<string>(DISPOSITIONS[0]);
  const [text, setText] = useState("");
  const form = useSubmit<AddInteractionNoteMutation>(async (key) => {
    const result = customerId
      ? await client.mutate<AddInteractionNoteMutation>({
          mutation: ADD_NOTE,
          variables: { idempotencyKey: key, input: { customerId, text: `[${disposition}] ${text}`.trim() } },
        })
      : { data: null, errors: undefined };
    if (!result.errors?.length) await onDone();
    return result;
  });
  return (
    <section class="card form wrapup" aria-label={t(lang, "wrapUp")} data-testid="wrapup-form">
      <h3>{t(lang, "wrapUp")}</h3>
      <label>
        {t(lang, "disposition")}
        <select value={disposition} onChange={(e) => setDisposition(e.currentTarget.value)}>
          {DISPOSITIONS.map((d) => (
            <option value={d}>{d}</option>
          ))}
        </select>
      </label>
      <label>
        {t(lang, "note")}
        <textarea value={text} onInput={(e) => setText(e.currentTarget.value)} rows={2} />
      </label>
      <button type="button" onClick={form.submit} aria-busy={form.busy}>
        {t(lang, "finish")}
      </button>
      {form.error && <p class="error" role="alert">{form.error}</p>}
    </section>
  );
}
