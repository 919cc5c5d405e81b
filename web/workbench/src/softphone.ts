// The demo's softphone: Tidegate plays the CTI (gateway/live/demo_softphone.py signs the event
// server-side with the demo's CTI secret). In production the telephony platform sends these itself.
export type CtiEvent = "CALL_RINGING" | "CALL_ANSWERED" | "CALL_ENDED";

export interface CtiAnswer {
  callId: string;
  status: number;
}

export async function demoCti(
  event: CtiEvent,
  agentId: string,
  callId?: string,
  customerNo?: string,
): Promise<CtiAnswer> {
  const answer = await fetch("/workbench/demo/cti", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event, agentId, callId, customerNo }),
  });
  const body = (await answer.json()) as Partial<CtiAnswer> & { errors?: { message: string }[] };
  if (!answer.ok) throw new Error(body.errors?.[0]?.message ?? `CTI refused (${answer.status})`);
  return body as CtiAnswer;
}
