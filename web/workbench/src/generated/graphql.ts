export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Date (isoformat) */
  Date: { input: string; output: string; }
  /** ISO 8601 date and time, always with its offset: 2026-11-26T10:15:00+08:00. */
  DateTime: { input: string; output: string; }
  _Any: { input: any; output: any; }
};

/** A billing account (户). Its fields load lazily and are nullable, so its parts arrive in parallel and a failing backend blanks only the fields it owns. */
export type Account = {
  /** 户号: 10 digits with leading zeros. */
  accountNo: Scalars['String']['output'];
  activeOutages: Maybe<Array<Outage>>;
  address: Maybe<Scalars['String']['output']>;
  /** Arrears plus late fees, less the prepaid balance; never below zero. */
  amountDue: Maybe<Money>;
  /** Unpaid bills (欠费), excluding late fees. */
  arrears: Maybe<Money>;
  /** Prepaid balance (预存余额). */
  balance: Maybe<Money>;
  /** Bills, newest first (at most 50). */
  bills: Maybe<Array<Bill>>;
  /** The annual price tier (阶梯) this year's usage has reached. */
  currentTier: Maybe<Scalars['Int']['output']>;
  customer: Maybe<Customer>;
  /** The bank direct-debit mandate (代扣), if any. */
  directDebit: Maybe<DirectDebit>;
  directDebitEnabled: Maybe<Scalars['Boolean']['output']>;
  /** How current the account's balance and arrears are: billing's answer is cached for a minute, and served older (stale: true) when billing is slow, failing or at capacity. */
  freshness: Maybe<Freshness>;
  /** The grid (网格) the service connection lies in. */
  gridCode: Maybe<Scalars['String']['output']>;
  /** 户名. */
  holderName: Maybe<Scalars['String']['output']>;
  landline: Maybe<Scalars['String']['output']>;
  /** Late fees (滞纳金) accrued to date. */
  lateFee: Maybe<Money>;
  /** Where the service connection taps the main. */
  location: Maybe<GeoPoint>;
  /** The meter, with its latest reads (at most 50): two more billing calls. */
  meter: Maybe<Meter>;
  /** The meter's number, from the account record (no extra call). */
  meterNo: Maybe<Scalars['String']['output']>;
  mobile: Maybe<Scalars['String']['output']>;
  openedOn: Maybe<Scalars['Date']['output']>;
  /** The active outages leaving this customer's water off, each with why: the main, shut or downstream of the closure, and the valves closed (the trace; `activeOutages` lists the same outages). */
  outageImpacts: Maybe<Array<OutageImpact>>;
  payMethod: Maybe<PaymentMethod>;
  /** Payments, newest first (at most 50). */
  payments: Maybe<Array<Payment>>;
  status: Maybe<AccountStatus>;
  useType: Maybe<WaterUseType>;
  yearToDateUsageM3: Maybe<Scalars['Int']['output']>;
};


/** A billing account (户). Its fields load lazily and are nullable, so its parts arrive in parallel and a failing backend blanks only the fields it owns. */
export type AccountBillsArgs = {
  last?: Scalars['Int']['input'];
};


/** A billing account (户). Its fields load lazily and are nullable, so its parts arrive in parallel and a failing backend blanks only the fields it owns. */
export type AccountMeterArgs = {
  reads?: Scalars['Int']['input'];
};


/** A billing account (户). Its fields load lazily and are nullable, so its parts arrive in parallel and a failing backend blanks only the fields it owns. */
export type AccountPaymentsArgs = {
  last?: Scalars['Int']['input'];
};

export type AccountStatus =
  | 'ACTIVE'
  | 'ARREARS_NOTICE'
  | 'CLOSED'
  | 'SUSPENDED'
  | 'UNKNOWN';

/** A note on a customer's contact history in the CRM. */
export type AddInteractionNoteInput = {
  /** e.g. KH00000001 */
  customerId: Scalars['ID']['input'];
  /** What was said or agreed (≤ 1900). */
  text: Scalars['String']['input'];
};

/** One page of the affected accounts. */
export type AffectedAccountPage = {
  items: Array<Maybe<Account>>;
  /** Pass as `after` for the next page. */
  nextCursor: Maybe<Scalars['String']['output']>;
  total: Scalars['Int']['output'];
};

/** One page of the affected customers. */
export type AffectedCustomerPage = {
  items: Array<Maybe<Customer>>;
  /** Pass as `after` for the next page. */
  nextCursor: Maybe<Scalars['String']['output']>;
  total: Scalars['Int']['output'];
};

export type Bill = {
  billNo: Scalars['String']['output'];
  dueOn: Maybe<Scalars['Date']['output']>;
  issuedOn: Maybe<Scalars['Date']['output']>;
  outstanding: Money;
  paid: Money;
  paidAt: Maybe<Scalars['DateTime']['output']>;
  /** Billing period, "YYYY-MM". */
  period: Scalars['String']['output'];
  readAt: Maybe<Scalars['DateTime']['output']>;
  /** 水资源费. */
  resource: Money;
  /** 污水处理费. */
  sewage: Money;
  status: BillStatus;
  tiers: Array<TierLine>;
  total: Money;
  usageM3: Scalars['Int']['output'];
  /** 水费. */
  water: Money;
};

export type BillStatus =
  | 'PAID'
  | 'PARTIALLY_PAID'
  | 'REVERSED'
  | 'UNKNOWN'
  | 'UNPAID';

/** Bind the call to a verified candidate. */
export type BindCallerInput = {
  candidateId: Scalars['ID']['input'];
  /** Why, for the audit trail (≤ 200). */
  reason: Scalars['String']['input'];
};

/** One agent seen on a call since this replica started. */
export type BoardAgent = {
  agentId: Scalars['String']['output'];
  callId: Maybe<Scalars['String']['output']>;
  /** Since the call opened; null when idle. */
  secondsInState: Maybe<Scalars['Float']['output']>;
  /** RINGING, ANSWERED or IDLE. */
  state: Scalars['String']['output'];
};

/** One back office's breaker, bulkhead and calls/s budget on this replica. */
export type BoardBackend = {
  /** closed, open or half_open; null: no breaker. */
  breaker: Maybe<Scalars['String']['output']>;
  /** Percent failed in the breaker's window. */
  failureRate: Maybe<Scalars['Float']['output']>;
  /** Calls holding a bulkhead slot now. */
  inFlight: Maybe<Scalars['Int']['output']>;
  lastOutcome: Maybe<Scalars['String']['output']>;
  maxConcurrent: Maybe<Scalars['Int']['output']>;
  /** The calls/s budget this replica draws on: the fleet's, with Redis. */
  maxRps: Maybe<Scalars['Float']['output']>;
  name: Scalars['String']['output'];
  peakInFlight: Maybe<Scalars['Int']['output']>;
  /** Calls/s the budget let start, last 10 s. */
  recentRps: Scalars['Float']['output'];
  shedByBudget: Scalars['Int']['output'];
  shedByBulkhead: Scalars['Int']['output'];
  /** up, degraded or down, judged as /readyz judges it. */
  status: Scalars['String']['output'];
};

/** One kind of cached back-office data, counted since this replica started. */
export type BoardCache = {
  family: Scalars['String']['output'];
  hits: Scalars['Int']['output'];
  misses: Scalars['Int']['output'];
  secondsSinceStale: Maybe<Scalars['Float']['output']>;
  /** Served past its freshness (extensions.stale). */
  staleServes: Scalars['Int']['output'];
};

/** An active outage, the calls on now that it leaves without water (by the valve-isolation trace, as the screen pop decides) and the callers the IVR told before they reached an agent. */
export type BoardOutage = {
  callIds: Array<Scalars['String']['output']>;
  calls: Scalars['Int']['output'];
  /** IVR look-ups (`callerOutageStatus`) this replica answered affected by this outage since it started: callers told without an agent. */
  ivrAnswered: Scalars['Int']['output'];
  outage: Outage;
};

/** Where a call is: ringing, answered, or ended (for good). UNKNOWN: never sent. */
export type CallState =
  | 'ANSWERED'
  | 'ENDED'
  | 'RINGING'
  | 'UNKNOWN';

/** A call at an agent's phone changed state, as the CTI reported it. */
export type CallUpdate = {
  agentId: Scalars['ID']['output'];
  callId: Scalars['ID']['output'];
  state: CallState;
};

/** Whether Tidegate knows who is calling on a call, said explicitly within the pop's deadline. Agents: their current call's only. */
export type CallerMatch = {
  callId: Scalars['ID']['output'];
  /** The customers the call is bound to (each read with the caller's access). */
  customers: Maybe<Array<Maybe<Customer>>>;
  /** True while billing's slower phone search still runs for this number: a match it finds arrives as a new `screenPop` event (source PHONE_BILLING_LATE). */
  searching: Scalars['Boolean']['output'];
  source: Maybe<CallerMatchSource>;
  status: CallerMatchStatus;
};

/** PHONE: the calling number, within the pop's deadline. PHONE_BILLING_LATE: billing's slower phone search, after the pop said no match. IDENTIFIED: the agent's verification. UNKNOWN: a value this client does not know yet. */
export type CallerMatchSource =
  | 'IDENTIFIED'
  | 'PHONE'
  | 'PHONE_BILLING_LATE'
  | 'UNKNOWN';

/** MATCHED: the calling number found customers. NO_MATCH: nobody on it (yet: see `searching`); offer identification. WITHHELD: no caller id. IDENTIFIED: the agent verified the caller and bound the call to them. */
export type CallerMatchStatus =
  | 'IDENTIFIED'
  | 'MATCHED'
  | 'NO_MATCH'
  | 'UNKNOWN'
  | 'WITHHELD';

/** One outage a caller's number is affected by, as the IVR tells it. */
export type CallerOutageNotice = {
  cause: ImpactCause;
  closedValveIds: Array<Scalars['String']['output']>;
  estimatedRestoreAt: Maybe<Scalars['DateTime']['output']>;
  kind: OutageKind;
  mainId: Scalars['String']['output'];
  /** A short sentence to play (Chinese, for text to speech). */
  message: Scalars['String']['output'];
  outageId: Scalars['ID']['output'];
  reason: Maybe<Scalars['String']['output']>;
  roadName: Maybe<Scalars['String']['output']>;
};

/** Is the caller's number on an account the active outages leave without water? Answered from the process's in-memory index, touching no back office. */
export type CallerOutageStatus = {
  affected: Scalars['Boolean']['output'];
  /** When the index was built (null: not built yet, so every answer is not affected). */
  asOf: Maybe<Scalars['DateTime']['output']>;
  cause: Maybe<ImpactCause>;
  estimatedRestoreAt: Maybe<Scalars['DateTime']['output']>;
  message: Scalars['String']['output'];
  /** Every outage, the first as below. */
  notices: Array<CallerOutageNotice>;
  outageId: Maybe<Scalars['ID']['output']>;
  reason: Maybe<Scalars['String']['output']>;
};

/** What the caller's answers showed. Wrong answers count on the call. */
export type CallerVerification = {
  /** Wrong answers left before the call locks. */
  attemptsLeft: Scalars['Int']['output'];
  /** True: identification is over on this call (IDENTIFICATION_LOCKED from now on). */
  locked: Scalars['Boolean']['output'];
  verified: Scalars['Boolean']['output'];
};

/** A repair ticket to file. Say where: `lat`/`lon`, an account (its service connection), a customer with one account, or an `address` (filed undispatched: addresses are not geocoded). */
export type CreateTicketInput = {
  /** 户号, leading zeros optional */
  accountNo: InputMaybe<Scalars['String']['input']>;
  address: InputMaybe<Scalars['String']['input']>;
  category: TicketCategory;
  /** e.g. KH00000001 */
  customerId: InputMaybe<Scalars['ID']['input']>;
  /** What is wrong, in the caller's words (≤ 2000). */
  description: Scalars['String']['input'];
  lat: InputMaybe<Scalars['Float']['input']>;
  lon: InputMaybe<Scalars['Float']['input']>;
};

/** A contact in the CRM, with what the other systems know about them. */
export type Customer = {
  accounts: Maybe<Array<Maybe<Account>>>;
  /** Active outages whose area holds one of the customer's service connections. */
  activeOutages: Maybe<Array<Outage>>;
  /** The utility's customer number, e.g. KH00000001. */
  id: Scalars['ID']['output'];
  /** ID card number, as billing holds it on the customer's accounts. */
  idCard: Maybe<Scalars['String']['output']>;
  /** The latest contacts with the utility, newest first (at most 50). */
  interactions: Maybe<Array<Interaction>>;
  kind: Maybe<CustomerKind>;
  /** The first landline on record, with its area code. */
  landline: Maybe<Scalars['String']['output']>;
  /** The first mobile number on record. */
  mobile: Maybe<Scalars['String']['output']>;
  name: Maybe<Scalars['String']['output']>;
  /** The active outages leaving this customer's water off, each with why: the main, shut or downstream of the closure, and the valves closed (the trace; `activeOutages` lists the same outages). */
  outageImpacts: Maybe<Array<OutageImpact>>;
  /** Every phone number on record, national format. */
  phones: Maybe<Array<Scalars['String']['output']>>;
  /** Customer since. */
  since: Maybe<Scalars['DateTime']['output']>;
  tags: Maybe<Array<Scalars['String']['output']>>;
  /** Repair tickets, newest first (at most 50). */
  tickets: Maybe<Array<Ticket>>;
  vip: Maybe<Scalars['Boolean']['output']>;
};


/** A contact in the CRM, with what the other systems know about them. */
export type CustomerInteractionsArgs = {
  last?: Scalars['Int']['input'];
};


/** A contact in the CRM, with what the other systems know about them. */
export type CustomerTicketsArgs = {
  first?: Scalars['Int']['input'];
  openOnly?: Scalars['Boolean']['input'];
  status?: InputMaybe<Array<TicketStatus>>;
};

export type CustomerKind =
  | 'INDIVIDUAL'
  | 'ORGANIZATION'
  | 'UNKNOWN';

/** A bank direct-debit mandate (代扣). */
export type DirectDebit = {
  bankAccount: Scalars['String']['output'];
  bankCode: Scalars['String']['output'];
  bankName: Scalars['String']['output'];
  holder: Scalars['String']['output'];
  signedOn: Maybe<Scalars['Date']['output']>;
  status: DirectDebitStatus;
};

export type DirectDebitStatus =
  | 'ACTIVE'
  | 'CANCELLED'
  | 'UNKNOWN';

/** A fee adjustment request (调整申请) in billing, waiting for a clerk's approval. */
export type FeeAdjustment = {
  accountNo: Scalars['String']['output'];
  /** Signed: negative lowers what the account owes. */
  amount: Money;
  billNo: Maybe<Scalars['String']['output']>;
  /** Our reference, written into billing's reason text: search for it there. */
  clientRef: Scalars['String']['output'];
  explanation: Scalars['String']['output'];
  /** Billing's request number (申请单号), e.g. TZ20261126000001. */
  id: Scalars['ID']['output'];
  reason: FeeAdjustmentReason;
  status: FeeAdjustmentStatus;
  submittedAt: Maybe<Scalars['DateTime']['output']>;
};

/** A fee adjustment for billing's clerks to approve. */
export type FeeAdjustmentInput = {
  /** 户号, leading zeros optional */
  accountNo: Scalars['String']['input'];
  /** Signed fen, never 0: negative lowers what the account owes (-1250 is 12.50 yuan off). */
  amountFen: Scalars['Int']['input'];
  /** The bill it corrects, if one. */
  billNo: InputMaybe<Scalars['String']['input']>;
  /** Why, for the approver (≤ 200). */
  explanation: Scalars['String']['input'];
  reason: FeeAdjustmentReason;
};

/** 调整类型. UNKNOWN means a code our tables do not know yet (it is logged). */
export type FeeAdjustmentReason =
  | 'CHARGE_REFUND'
  | 'LATE_FEE_WAIVER'
  | 'OTHER'
  | 'UNKNOWN'
  | 'VOLUME_CORRECTION';

/** 申请状态. UNKNOWN means a code our tables do not know yet (it is logged). */
export type FeeAdjustmentStatus =
  | 'PENDING_APPROVAL'
  | 'UNKNOWN';

/** A field worker (网格员) responsible for one grid. */
export type FieldWorker = {
  gridCode: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** Their work mobile: masked unless the caller holds staff:contact. */
  mobile: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
};

/** When the system of record gave this data, and whether it is past its freshness. */
export type Freshness = {
  ageSeconds: Scalars['Float']['output'];
  /** When the back office answered (ISO 8601 with offset). */
  asOf: Scalars['DateTime']['output'];
  /** Served past its freshness (the back office was slow, failing or at capacity). */
  stale: Scalars['Boolean']['output'];
};

/** A point in CGCS2000 (wkid 4490) degrees. */
export type GeoPoint = {
  lat: Scalars['Float']['output'];
  lon: Scalars['Float']['output'];
};

/** Someone the caller may be, as far as an agent may know before verifying: masked always (whatever the caller's scopes), with an id that works on this call only. */
export type IdentificationCandidate = {
  /** 户号, masked: the first three and last two digits. */
  accountNo: Scalars['String']['output'];
  /** Down to the 小区, never the building or flat. */
  address: Maybe<Scalars['String']['output']>;
  /** Pass to `verifyCaller` and `bindCaller` on this call. */
  candidateId: Scalars['ID']['output'];
  /** 户名, masked. */
  holderName: Scalars['String']['output'];
};

/** SHUT: the outage's valves are closed around the customer's main; DOWNSTREAM: the main is fed through the shut section and loses its supply too; UNKNOWN: the network could not place the outage (it names no valve or main the GIS network holds) and its polygon decided. */
export type ImpactCause =
  | 'DOWNSTREAM'
  | 'SHUT'
  | 'UNKNOWN';

/** One contact with the utility: a call, a chat, a counter visit, a note. */
export type Interaction = {
  accountNo: Maybe<Scalars['String']['output']>;
  agentId: Maybe<Scalars['String']['output']>;
  at: Scalars['DateTime']['output'];
  channel: InteractionChannel;
  durationSeconds: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  outcome: InteractionOutcome;
  /** What was said, as written; phone, ID and card numbers in it masked. */
  summary: Scalars['String']['output'];
  type: InteractionType;
};

export type InteractionChannel =
  | 'APP'
  | 'COUNTER'
  | 'HOTLINE_12345'
  | 'PHONE'
  | 'UNKNOWN'
  | 'WECHAT';

export type InteractionOutcome =
  | 'AWAITING_CALLBACK'
  | 'IN_PROGRESS'
  | 'RESOLVED'
  | 'TRANSFERRED'
  | 'UNKNOWN';

export type InteractionType =
  | 'BILLING_DISPUTE'
  | 'COMPLAINT'
  | 'INQUIRY'
  | 'NOTE'
  | 'PAYMENT'
  | 'REPAIR_REQUEST'
  | 'UNKNOWN';

/** The valve-isolation trace (关阀分析) for one main: the valve segment holding it, the valves to close, where inoperable valves enlarge the area, what loses water downstream, and who is affected. */
export type IsolationPlan = {
  /** Accounts (户) whose service connection taps a main left without water. */
  accountCount: Scalars['Int']['output'];
  /** The affected accounts, a page at a time (`first` 1-200): for roles that may read any customer. */
  accounts: Maybe<AffectedAccountPage>;
  /** Valves on the area's edge that stand closed already. */
  alreadyClosedValves: Array<PlanValve>;
  /** Distinct customers holding the affected accounts (from billing). */
  customerCount: Maybe<Scalars['Int']['output']>;
  /** The affected customers, a page at a time (`first` 1-200): for roles that may read any customer. */
  customers: Maybe<AffectedCustomerPage>;
  /** Mains beyond the area that no source reaches once it is shut (the downstream effect). */
  cutOffMainIds: Array<Scalars['ID']['output']>;
  /** True when an inoperable boundary valve made the area larger. */
  enlarged: Scalars['Boolean']['output'];
  /** Estimated households: one per residential affected account. */
  estimatedHouseholds: Maybe<Scalars['Int']['output']>;
  /** Each inoperable valve crossed and the segment it added, in order. */
  growth: Array<SegmentGrowth>;
  /** The area the valves shut off: the segment plus what `growth` adds. */
  isolatedMainIds: Array<Scalars['ID']['output']>;
  /** The main asked about (asset number). */
  mainId: Scalars['ID']['output'];
  /** Every main left without water: the area and what it cuts off. */
  outMainIds: Array<Scalars['ID']['output']>;
  /** False when a source feeds the area directly: closing valves cannot dry it. */
  sealed: Scalars['Boolean']['output'];
  /** The valve segment holding the main: mains with no valve between them. */
  segmentMainIds: Array<Scalars['ID']['output']>;
  /** How many affected accounts are on the register of customers to warn first. */
  sensitiveCustomerCount: Maybe<Scalars['Int']['output']>;
  /** Affected customers on the CRM's register (hospitals, dialysis, schools, 孤老, 低保): roles that may read any customer. */
  sensitiveCustomers: Maybe<Array<SensitiveCustomer>>;
  /** Service connections on the mains left without water. */
  serviceConnectionCount: Scalars['Int']['output'];
  /** Open, operable valves on the area's edge: the ones to close. */
  valvesToClose: Array<PlanValve>;
};


/** The valve-isolation trace (关阀分析) for one main: the valve segment holding it, the valves to close, where inoperable valves enlarge the area, what loses water downstream, and who is affected. */
export type IsolationPlanAccountsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: Scalars['Int']['input'];
};


/** The valve-isolation trace (关阀分析) for one main: the valve segment holding it, the valves to close, where inoperable valves enlarge the area, what loses water downstream, and who is affected. */
export type IsolationPlanCustomersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: Scalars['Int']['input'];
};

/** How a masked field reads unless the caller may unmask it. */
export type MaskKind =
  | 'ADDRESS'
  | 'BANK_ACCOUNT'
  | 'FREE_TEXT'
  | 'ID_CARD'
  | 'LANDLINE'
  | 'MOBILE'
  | 'NAME'
  | 'PHONE'
  | 'STAFF_MOBILE';

export type Meter = {
  installedOn: Maybe<Scalars['Date']['output']>;
  meterNo: Scalars['String']['output'];
  /** Newest first. */
  reads: Array<MeterRead>;
  sizeMm: Maybe<Scalars['Int']['output']>;
};

export type MeterRead = {
  previousReading: Maybe<Scalars['Int']['output']>;
  readAt: Maybe<Scalars['DateTime']['output']>;
  reader: Maybe<Scalars['String']['output']>;
  reading: Scalars['Int']['output'];
  status: MeterReadStatus;
  usageM3: Scalars['Int']['output'];
};

export type MeterReadStatus =
  | 'ESTIMATED'
  | 'METER_BROKEN'
  | 'METER_REPLACED'
  | 'METER_STOPPED'
  | 'NORMAL'
  | 'NO_ACCESS'
  | 'REVERSED'
  | 'UNKNOWN'
  | 'ZERO_USAGE';

/** An amount of money: integer fen, and the same as a decimal yuan string. */
export type Money = {
  fen: Scalars['Int']['output'];
  /** Two decimal places, e.g. "12.34". */
  yuan: Scalars['String']['output'];
};

export type Mutation = {
  /** Add a note to a customer's contact history (an agent: the caller on their current call). Retry with the same `idempotencyKey` after any failure: the note is never added twice. */
  addInteractionNote: Interaction;
  /** Bind your current call to the verified candidate's customer (audited with your reason): the call's customers become that one alone, for every agent on it, and the pop updates. IDENTIFICATION_NOT_VERIFIED unless `verifyCaller` said yes for this candidate. */
  bindCaller: CallerMatch;
  /** File a repair ticket for the grid's field worker. Retry with the same `idempotencyKey` (a UUID per ticket) after any failure: the same input gets the same ticket, never a second one; another input under that key is IDEMPOTENCY_KEY_REUSED. */
  createTicket: Ticket;
  /** Declare an outage on a main (supervisors): runs the valve-isolation trace, files the repair as ONE master work order with a child task per valve to close, publishes the 停水 notice on the GIS, and texts every affected customer once. Declaring a main whose outage is still active answers with that outage (whatever the key); retry with the same `idempotencyKey`. Afterwards, createTicket from an affected customer answers with the master order. */
  declareOutage: OutageDeclaration;
  /** Ask billing to adjust what an account owes; a billing clerk approves it. Retry with the same `idempotencyKey` after a failure. Billing cannot be searched for requests, so if its answer was lost the key stays IDEMPOTENCY_OUTCOME_UNKNOWN (check billing's queue for `clientRef`); refused during billing's nightly settlement (BACKEND_REJECTED, reason SETTLEMENT_WINDOW). */
  requestFeeAdjustment: FeeAdjustment;
  /** Restore a declared outage (supervisors): closes the GIS notice, completes the master order and its tasks, and sends the all-clear once per customer. OUTAGE_NOT_ACTIVE for a scheduled or cancelled notice; restoring a restored one answers with it. */
  restoreOutage: OutageRestoration;
  /** Show one customer's PII in clear, on purpose: `reason` (4-200 characters) is written to the audit trail with the customer and fields (never the values). An agent: the customer on their current call only (FORBIDDEN otherwise). Reads nothing new; not idempotent because it changes nothing but the audit trail. */
  revealCustomerPii: RevealedCustomerPii;
  /** Check the caller's answers (last four of the ID number, the street) against a candidate from `identificationCandidates`, on your current call. Wrong answers count; after the last one the call is locked for identification (IDENTIFICATION_LOCKED). */
  verifyCaller: CallerVerification;
};


export type MutationAddInteractionNoteArgs = {
  idempotencyKey: Scalars['String']['input'];
  input: AddInteractionNoteInput;
};


export type MutationBindCallerArgs = {
  input: BindCallerInput;
};


export type MutationCreateTicketArgs = {
  idempotencyKey: Scalars['String']['input'];
  input: CreateTicketInput;
};


export type MutationDeclareOutageArgs = {
  estimatedRestore: Scalars['DateTime']['input'];
  idempotencyKey: Scalars['String']['input'];
  kind: OutageKind;
  mainId: Scalars['ID']['input'];
  reason: Scalars['String']['input'];
};


export type MutationRequestFeeAdjustmentArgs = {
  idempotencyKey: Scalars['String']['input'];
  input: FeeAdjustmentInput;
};


export type MutationRestoreOutageArgs = {
  idempotencyKey: Scalars['String']['input'];
  outageId: Scalars['ID']['input'];
};


export type MutationRevealCustomerPiiArgs = {
  customerId: Scalars['ID']['input'];
  reason: Scalars['String']['input'];
};


export type MutationVerifyCallerArgs = {
  input: VerifyCallerInput;
};

/** One run of outage texts through the CRM's SMS gateway. */
export type NoticeRun = {
  /** True: more than a request's worth; the run goes on after this answer. `outageNotices` counts what the outbox holds. */
  background: Scalars['Boolean']['output'];
  /** Affected customers the run is for. */
  customers: Scalars['Int']['output'];
  /** Texts the CRM had already sent under the same outage and customer: not sent again. */
  duplicates: Scalars['Int']['output'];
  /** Texts this run queued at the CRM (0 while `background`). */
  sent: Scalars['Int']['output'];
  /** Customers with no mobile on record: not texted. */
  withoutMobile: Scalars['Int']['output'];
};

/** A water outage (停水): planned works or an emergency repair. */
export type Outage = {
  affectedAccounts: Maybe<Scalars['Int']['output']>;
  /** The outage area's rings. */
  area: Array<Array<GeoPoint>>;
  estimatedRestoreAt: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  kind: OutageKind;
  /** The mains the outage isolates. */
  pipeSegments: Maybe<Array<PipeSegment>>;
  reason: Maybe<Scalars['String']['output']>;
  startsAt: Maybe<Scalars['DateTime']['output']>;
  status: OutageStatus;
};

/** A declared outage: the GIS notice, one master repair order, one task per closure. */
export type OutageDeclaration = {
  /** One child task per valve to close, in plan order. */
  closureTasks: Array<Ticket>;
  /** The repair, filed once: tickets from affected customers attach to it. */
  masterTicket: Ticket;
  notices: NoticeRun;
  outage: Outage;
};

/** An active outage that leaves one of the customer's accounts without water, and why (from the valve-isolation trace; `byTrace` false: the network could not place the outage and its polygon decided). */
export type OutageImpact = {
  /** The account whose service connection is dry. */
  accountNo: Scalars['String']['output'];
  byTrace: Scalars['Boolean']['output'];
  cause: ImpactCause;
  /** The valves the outage closed (asset nos). */
  closedValveIds: Array<Scalars['String']['output']>;
  /** The main the account's connection taps (asset no). */
  mainId: Maybe<Scalars['String']['output']>;
  outage: Outage;
  roadName: Maybe<Scalars['String']['output']>;
};

export type OutageKind =
  | 'EMERGENCY'
  | 'PLANNED'
  | 'UNKNOWN';

/** What the CRM's SMS outbox holds for one outage. */
export type OutageNotices = {
  /** All-clear texts sent after the restore. */
  allClear: Scalars['Int']['output'];
  /** Outage notices sent, one per customer at most. */
  declared: Scalars['Int']['output'];
  outageId: Scalars['ID']['output'];
};

/** A restored outage: the notice closed, the master order completed, the all-clear. */
export type OutageRestoration = {
  masterTicket: Ticket;
  notices: NoticeRun;
  outage: Outage;
};

export type OutageStatus =
  | 'ACTIVE'
  | 'CANCELLED'
  | 'RESTORED'
  | 'SCHEDULED'
  | 'UNKNOWN';

export type Payment = {
  amount: Money;
  billNo: Maybe<Scalars['String']['output']>;
  method: PaymentMethod;
  paidAt: Maybe<Scalars['DateTime']['output']>;
  serial: Scalars['String']['output'];
};

export type PaymentMethod =
  | 'COUNTER'
  | 'DIRECT_DEBIT'
  | 'DOOR_TO_DOOR'
  | 'ONLINE'
  | 'PREPAID_DEDUCTION'
  | 'UNKNOWN';

export type PipeMaterial =
  | 'DUCTILE_IRON'
  | 'GREY_CAST_IRON'
  | 'PE'
  | 'PVC'
  | 'STEEL'
  | 'UNKNOWN';

/** A water main between two junctions (管段). */
export type PipeSegment = {
  diameterMm: Maybe<Scalars['Int']['output']>;
  dma: Maybe<Scalars['String']['output']>;
  /** Asset number, e.g. GS-000205. */
  id: Scalars['ID']['output'];
  installedOn: Maybe<Scalars['Date']['output']>;
  lengthM: Maybe<Scalars['Float']['output']>;
  material: PipeMaterial;
  /** How many open tickets lie on this main, yours or not: "3 open repairs on this main". */
  openTicketCount: Maybe<Scalars['Int']['output']>;
  /** Open tickets on this main (within 60 m; at most 50) that you may read: an agent, only their caller's; the others are in `withheldOpenTickets`. */
  openTickets: Maybe<Array<Ticket>>;
  /** Outages (any status) that isolate this main. */
  outages: Maybe<Array<Outage>>;
  path: Array<GeoPoint>;
  pressureZone: Maybe<Scalars['String']['output']>;
  roadName: Maybe<Scalars['String']['output']>;
  status: PipeStatus;
  /** The open tickets on this main you may not read, as stubs: what kind of work and how far along, never whose, where or by whom. */
  withheldOpenTickets: Maybe<Array<RedactedTicket>>;
};

export type PipeStatus =
  | 'IN_SERVICE'
  | 'OUT_OF_SERVICE'
  | 'PLANNED'
  | 'UNKNOWN';

/** A valve of the plan (阀门). */
export type PlanValve = {
  boundary: ValveBoundary;
  currentlyOpen: Scalars['Boolean']['output'];
  /** Asset number, e.g. FM-000123. */
  id: Scalars['ID']['output'];
  location: Maybe<GeoPoint>;
  /** The main it sits on (asset number). */
  mainId: Scalars['ID']['output'];
  normallyOpen: Scalars['Boolean']['output'];
  /** The GIS object id. */
  objectId: Scalars['Int']['output'];
  operable: Scalars['Boolean']['output'];
  /** The node closing it shuts the main off from. */
  protectedNode: Scalars['Int']['output'];
};

export type Query = {
  _entities: Array<Maybe<_Entity>>;
  _service: _Service;
  /** A billing account by 户号 (leading zeros optional). */
  account: Maybe<Account>;
  /** Whether Tidegate knows who is calling on your current call (null: on no call). NO_MATCH and WITHHELD are normal answers: identify the caller (`identificationCandidates`, `verifyCaller`, `bindCaller`). */
  callerMatch: Maybe<CallerMatch>;
  /** For the IVR: is this caller's number without water because of an active outage, why, and when it is back. From memory only (no back office is asked); an unknown or withheld number is not affected. */
  callerOutageStatus: Maybe<CallerOutageStatus>;
  /** A customer by the utility's customer number, e.g. KH00000001. */
  customer: Maybe<Customer>;
  /** Customers reachable on this number. Accepts +86, 0086, 86, a leading 0, spaces and dashes. */
  customerByPhone: Maybe<Array<Maybe<Customer>>>;
  /** Who the caller on your current call may be, by 户号 alone, or by part of the holder's name and/or address (2-40 characters): at most `first` (1-10), masked. Only while on a call whose caller is not identified yet. */
  identificationCandidates: Maybe<Array<IdentificationCandidate>>;
  /** The valve-isolation trace for a main (asset number, e.g. GS-000205): valves to close, mains and customers left without water. */
  isolationPlan: Maybe<IsolationPlan>;
  /** How many outage texts the CRM's outbox holds for a declared outage (supervisors): how far a background notice run has got. */
  outageNotices: Maybe<OutageNotices>;
  /** Outages; `active: true` for those cutting water now, omit for all. */
  outages: Maybe<Array<Outage>>;
  /** A water main by asset number, e.g. GS-000205. */
  pipeSegment: Maybe<PipeSegment>;
  /** Mains within `radiusM` metres (1-2000) of a point, nearest first (at most 50). */
  pipeSegmentsNear: Maybe<Array<PipeSegment>>;
  /** The supervisor's board: queue, agents, screen-pop times, back offices, outages. */
  supervisorBoard: Maybe<SupervisorBoard>;
  /** A repair ticket by its work-order number. */
  ticket: Maybe<Ticket>;
  /** Tickets across the district, newest first; open ones unless `status` says. */
  tickets: Maybe<Array<Ticket>>;
};


export type Query_EntitiesArgs = {
  representations: Array<Scalars['_Any']['input']>;
};


export type QueryAccountArgs = {
  accountNo: Scalars['String']['input'];
};


export type QueryCallerOutageStatusArgs = {
  phone: Scalars['String']['input'];
};


export type QueryCustomerArgs = {
  id: Scalars['ID']['input'];
};


export type QueryCustomerByPhoneArgs = {
  phone: Scalars['String']['input'];
};


export type QueryIdentificationCandidatesArgs = {
  accountNo?: InputMaybe<Scalars['String']['input']>;
  address?: InputMaybe<Scalars['String']['input']>;
  first?: Scalars['Int']['input'];
  name?: InputMaybe<Scalars['String']['input']>;
};


export type QueryIsolationPlanArgs = {
  mainId: Scalars['ID']['input'];
};


export type QueryOutageNoticesArgs = {
  outageId: Scalars['ID']['input'];
};


export type QueryOutagesArgs = {
  active?: InputMaybe<Scalars['Boolean']['input']>;
};


export type QueryPipeSegmentArgs = {
  id: Scalars['ID']['input'];
};


export type QueryPipeSegmentsNearArgs = {
  lat: Scalars['Float']['input'];
  lon: Scalars['Float']['input'];
  radiusM?: Scalars['Int']['input'];
};


export type QueryTicketArgs = {
  id: Scalars['ID']['input'];
};


export type QueryTicketsArgs = {
  first?: Scalars['Int']['input'];
  status?: InputMaybe<Array<TicketStatus>>;
};

/** A ticket you may know exists and nothing more: no id, customer, account, description, address, location or assignee. */
export type RedactedTicket = {
  category: TicketCategory;
  createdAt: Scalars['DateTime']['output'];
  priority: TicketPriority;
  status: TicketStatus;
};

/** A customer's PII in clear, revealed on purpose with a reason (audited). */
export type RevealedCustomerPii = {
  /** e.g. KH00000001 */
  customerId: Scalars['ID']['output'];
  idCard: Maybe<Scalars['String']['output']>;
  landline: Maybe<Scalars['String']['output']>;
  mobile: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
};

/** A call ringing at an agent's phone, and who is calling: pushed before they answer. */
export type ScreenPop = {
  agentId: Scalars['ID']['output'];
  callId: Scalars['ID']['output'];
  /** The calling number as the CTI gave it. */
  caller: Maybe<Scalars['String']['output']>;
  /** The customers on the calling number, as `customerByPhone` returns them. */
  customers: Maybe<Array<Maybe<Customer>>>;
  /** Whether the caller is known: NO_MATCH within the deadline for a number nobody knows (a later match arrives as a new event), WITHHELD without caller id. */
  match: CallerMatch;
  /** True: served from the screen pop Tidegate ran when the phone rang (no back office asked now); false: looked up for this event. */
  prefetched: Scalars['Boolean']['output'];
  /** When the CTI reported the call ringing. */
  ringingAt: Scalars['DateTime']['output'];
};

/** The isolated area grew here: `valve` stands open and cannot be closed, so the valve segment behind it is shut off too, from the valves beyond it. */
export type SegmentGrowth = {
  /** The mains of the segment added (none: a junction valved on every side). */
  addedMainIds: Array<Scalars['ID']['output']>;
  valve: PlanValve;
};

export type SensitiveCategory =
  | 'DIALYSIS'
  | 'ELDERLY_ALONE'
  | 'HOSPITAL'
  | 'LOW_INCOME'
  | 'SCHOOL'
  | 'UNKNOWN';

/** An affected customer on the CRM's register of those to warn first (重点保障用户). */
export type SensitiveCustomer = {
  account: Maybe<Account>;
  category: SensitiveCategory;
  customer: Maybe<Customer>;
  note: Maybe<Scalars['String']['output']>;
  registerId: Scalars['ID']['output'];
};

export type Subscription = {
  /** The agent's calls changing state (first: the current call's, if any), as the CTI reports them to any replica: what a softphone bar shows. Agents may watch only their own; supervisors any agent's. */
  callUpdated: CallUpdate;
  /** The agent's screen pops, pushed when their phone rings (first: the current call's, if it is ringing). Agents may watch only their own; supervisors any agent's. */
  screenPop: ScreenPop;
  /** A ticket's changes (first: the ticket as it is now), or every change to one customer's tickets. Exactly one of `ticketId`, `customerId`. Agents: tickets of their current call's customers only; the stream ends (FORBIDDEN) at its first event after the call. */
  ticketUpdated: Ticket;
};


export type SubscriptionCallUpdatedArgs = {
  agentId: Scalars['ID']['input'];
};


export type SubscriptionScreenPopArgs = {
  agentId: Scalars['ID']['input'];
};


export type SubscriptionTicketUpdatedArgs = {
  customerId?: InputMaybe<Scalars['ID']['input']>;
  ticketId?: InputMaybe<Scalars['ID']['input']>;
};

/** The supervisor's board, as this replica sees it. */
export type SupervisorBoard = {
  agents: Array<BoardAgent>;
  answered: Scalars['Int']['output'];
  at: Scalars['DateTime']['output'];
  backends: Array<BoardBackend>;
  caches: Array<BoardCache>;
  callsLastMinute: Scalars['Int']['output'];
  /** Calls opened in each of the last 15 minutes, oldest first. */
  callsPerMinute: Array<Scalars['Int']['output']>;
  /** Active outages, each with the calls attributed to it. */
  outages: Maybe<Array<BoardOutage>>;
  popP50Ms: Maybe<Scalars['Float']['output']>;
  popP99Ms: Maybe<Scalars['Float']['output']>;
  /** Screen pops answered in the last 5 minutes. */
  popsCounted: Scalars['Int']['output'];
  /** Calls ringing at an agent, not yet answered. */
  ringing: Scalars['Int']['output'];
};

/** A repair ticket (工单) in the work-order system. */
export type Ticket = {
  account: Maybe<Account>;
  address: Maybe<Scalars['String']['output']>;
  assignee: Maybe<FieldWorker>;
  category: TicketCategory;
  clientRef: Maybe<Scalars['String']['output']>;
  createdAt: Scalars['DateTime']['output'];
  customer: Maybe<Customer>;
  /** What is wrong, as reported; phone, ID and card numbers in it masked. */
  description: Scalars['String']['output'];
  gridCode: Maybe<Scalars['String']['output']>;
  /** Status changes, oldest first. */
  history: Array<TicketEvent>;
  id: Scalars['ID']['output'];
  /** The newest status change the work-order system pushed (null: none kept), from Tidegate's own store: no call to the work-order system; it trails `status` by the delivery delay. */
  liveStatus: Maybe<TicketLiveStatus>;
  location: Maybe<GeoPoint>;
  /** The master order this is a child task of (an outage's valve closure), if any. */
  parentId: Maybe<Scalars['ID']['output']>;
  /** The main nearest the ticket's location (within 100 m). */
  pipeSegment: Maybe<PipeSegment>;
  priority: TicketPriority;
  status: TicketStatus;
  updatedAt: Scalars['DateTime']['output'];
};

export type TicketCategory =
  | 'BILLING_DISPUTE'
  | 'BURST_MAIN'
  | 'LEAK'
  | 'LOW_PRESSURE'
  | 'METER_FAULT'
  | 'NO_WATER'
  | 'OTHER'
  | 'UNKNOWN'
  | 'WATER_QUALITY';

export type TicketEvent = {
  at: Scalars['DateTime']['output'];
  operator: Maybe<Scalars['String']['output']>;
  /** The operator's words; phone, ID and card numbers in them masked. */
  remark: Maybe<Scalars['String']['output']>;
  status: TicketStatus;
};

/** The newest status the work-order system pushed for a ticket (webhook), as Tidegate keeps it. */
export type TicketLiveStatus = {
  /** When the work-order system made the change. */
  changedAt: Scalars['DateTime']['output'];
  /** The change's number in the ticket's history, from 1. */
  sequence: Scalars['Int']['output'];
  status: TicketStatus;
};

export type TicketPriority =
  | 'CRITICAL'
  | 'NORMAL'
  | 'UNKNOWN'
  | 'URGENT';

export type TicketStatus =
  | 'ACCEPTED'
  | 'ACKNOWLEDGED'
  | 'CANCELLED'
  | 'CLOSED'
  | 'COMPLETED'
  | 'DISPATCHED'
  | 'FOLLOW_UP'
  | 'IN_PROGRESS'
  | 'ON_HOLD'
  | 'RETURNED'
  | 'UNKNOWN';

/** One annual price tier's share of a bill (阶梯水价). */
export type TierLine = {
  amount: Money;
  tier: Scalars['Int']['output'];
  /** Per cubic metre. */
  unitPrice: Money;
  volumeM3: Scalars['Int']['output'];
};

export type ValveBoundary =
  | 'DMA'
  | 'NONE'
  | 'PRESSURE_ZONE'
  | 'UNKNOWN';

/** What the caller says, checked against the candidate's record. */
export type VerifyCallerInput = {
  candidateId: Scalars['ID']['input'];
  /** The last four characters of their ID number. */
  idCardLast4: Scalars['String']['input'];
  /** The street of their address, e.g. 新华路. */
  street: Scalars['String']['input'];
};

export type WaterUseType =
  | 'COMMERCIAL'
  | 'PUBLIC_INSTITUTION'
  | 'RESIDENTIAL'
  | 'SPECIAL_INDUSTRY'
  | 'UNKNOWN';

export type _Entity = Account | Customer | PipeSegment | Ticket;

export type _Service = {
  sdl: Scalars['String']['output'];
};

export type AddInteractionNoteMutationVariables = Exact<{
  input: AddInteractionNoteInput;
  idempotencyKey: Scalars['String']['input'];
}>;


export type AddInteractionNoteMutation = { addInteractionNote: { id: string, at: string, channel: InteractionChannel, type: InteractionType, outcome: InteractionOutcome, agentId: string | null, summary: string } };

export type BindCallerMutationVariables = Exact<{
  input: BindCallerInput;
}>;


export type BindCallerMutation = { bindCaller: { callId: string, status: CallerMatchStatus, source: CallerMatchSource | null, customers: Array<{ id: string, name: string | null } | null> | null } };

export type CallerMatchQueryVariables = Exact<{ [key: string]: never; }>;


export type CallerMatchQuery = { callerMatch: { callId: string, status: CallerMatchStatus, searching: boolean, source: CallerMatchSource | null, customers: Array<{ id: string, name: string | null } | null> | null } | null };

export type CallerOutageStatusQueryVariables = Exact<{
  phone: Scalars['String']['input'];
}>;


export type CallerOutageStatusQuery = { callerOutageStatus: { affected: boolean, outageId: string | null, reason: string | null, cause: ImpactCause | null, estimatedRestoreAt: string | null, message: string, asOf: string | null, notices: Array<{ outageId: string, kind: OutageKind, cause: ImpactCause, mainId: string, roadName: string | null, closedValveIds: Array<string>, estimatedRestoreAt: string | null, message: string }> } | null };

export type CreateTicketMutationVariables = Exact<{
  input: CreateTicketInput;
  idempotencyKey: Scalars['String']['input'];
}>;


export type CreateTicketMutation = { createTicket: { id: string, category: TicketCategory, priority: TicketPriority, status: TicketStatus, description: string, address: string | null, gridCode: string | null, clientRef: string | null, createdAt: string, location: { lon: number, lat: number } | null, assignee: { id: string, name: string, mobile: string | null, gridCode: string | null } | null } };

export type IdentificationCandidatesQueryVariables = Exact<{
  accountNo: InputMaybe<Scalars['String']['input']>;
  address: InputMaybe<Scalars['String']['input']>;
  name: InputMaybe<Scalars['String']['input']>;
  first?: Scalars['Int']['input'];
}>;


export type IdentificationCandidatesQuery = { identificationCandidates: Array<{ candidateId: string, accountNo: string, holderName: string, address: string | null }> | null };

export type RequestFeeAdjustmentMutationVariables = Exact<{
  input: FeeAdjustmentInput;
  idempotencyKey: Scalars['String']['input'];
}>;


export type RequestFeeAdjustmentMutation = { requestFeeAdjustment: { id: string, accountNo: string, reason: FeeAdjustmentReason, explanation: string, billNo: string | null, status: FeeAdjustmentStatus, submittedAt: string | null, clientRef: string, amount: { fen: number, yuan: string } } };

export type ScreenPopQueryVariables = Exact<{
  phone: Scalars['String']['input'];
}>;


export type ScreenPopQuery = { customerByPhone: Array<{ id: string, name: string | null, kind: CustomerKind | null, mobile: string | null, landline: string | null, idCard: string | null, vip: boolean | null, tags: Array<string> | null, accounts: Array<{ accountNo: string, holderName: string | null, address: string | null, status: AccountStatus | null, useType: WaterUseType | null, payMethod: PaymentMethod | null, currentTier: number | null, yearToDateUsageM3: number | null, directDebitEnabled: boolean | null, meterNo: string | null, balance: { fen: number, yuan: string } | null, arrears: { fen: number, yuan: string } | null, lateFee: { fen: number, yuan: string } | null, amountDue: { fen: number, yuan: string } | null, freshness: { asOf: string, stale: boolean } | null } | null> | null, interactions: Array<{ id: string, at: string, channel: InteractionChannel, type: InteractionType, outcome: InteractionOutcome, summary: string, agentId: string | null }> | null, tickets: Array<{ id: string, category: TicketCategory, priority: TicketPriority, status: TicketStatus, description: string, createdAt: string, assignee: { id: string, name: string, mobile: string | null } | null }> | null, activeOutages: Array<{ id: string, kind: OutageKind, status: OutageStatus, reason: string | null, startsAt: string | null, estimatedRestoreAt: string | null }> | null } | null> | null };

export type SupervisorBoardQueryVariables = Exact<{ [key: string]: never; }>;


export type SupervisorBoardQuery = { supervisorBoard: { at: string, ringing: number, answered: number, callsLastMinute: number, callsPerMinute: Array<number>, popsCounted: number, popP50Ms: number | null, popP99Ms: number | null, agents: Array<{ agentId: string, state: string, callId: string | null, secondsInState: number | null }>, backends: Array<{ name: string, status: string, breaker: string | null, failureRate: number | null, lastOutcome: string | null, inFlight: number | null, maxConcurrent: number | null, peakInFlight: number | null, shedByBulkhead: number, maxRps: number | null, recentRps: number, shedByBudget: number }>, caches: Array<{ family: string, hits: number, misses: number, staleServes: number, secondsSinceStale: number | null }>, outages: Array<{ calls: number, callIds: Array<string>, ivrAnswered: number, outage: { id: string, kind: OutageKind, status: OutageStatus, reason: string | null, startsAt: string | null, estimatedRestoreAt: string | null, affectedAccounts: number | null } }> | null } | null };

export type VerifyCallerMutationVariables = Exact<{
  input: VerifyCallerInput;
}>;


export type VerifyCallerMutation = { verifyCaller: { verified: boolean, attemptsLeft: number, locked: boolean } };

export type WorkbenchAccountQueryVariables = Exact<{
  accountNo: Scalars['String']['input'];
}>;


export type WorkbenchAccountQuery = { account: { accountNo: string, bills: Array<{ billNo: string, period: string, usageM3: number, status: BillStatus, dueOn: string | null, total: { yuan: string }, outstanding: { yuan: string }, tiers: Array<{ tier: number, volumeM3: number, unitPrice: { yuan: string }, amount: { yuan: string } }> }> | null, meter: { meterNo: string, sizeMm: number | null, reads: Array<{ readAt: string | null, reading: number, usageM3: number, status: MeterReadStatus }> } | null } | null };

export type WorkbenchCallSubscriptionVariables = Exact<{
  agentId: Scalars['ID']['input'];
}>;


export type WorkbenchCallSubscription = { callUpdated: { callId: string, state: CallState } };

export type WorkbenchMainsQueryVariables = Exact<{
  lat: Scalars['Float']['input'];
  lon: Scalars['Float']['input'];
}>;


export type WorkbenchMainsQuery = { pipeSegmentsNear: Array<{ id: string, roadName: string | null, material: PipeMaterial, diameterMm: number | null, status: PipeStatus, path: Array<{ lon: number, lat: number }> }> | null };

export type WorkbenchPopSubscriptionVariables = Exact<{
  agentId: Scalars['ID']['input'];
}>;


export type WorkbenchPopSubscription = { screenPop: { callId: string, agentId: string, caller: string | null, ringingAt: string, prefetched: boolean, customers: Array<{ id: string, name: string | null, kind: CustomerKind | null, mobile: string | null, idCard: string | null, vip: boolean | null, tags: Array<string> | null, accounts: Array<{ accountNo: string, address: string | null, status: AccountStatus | null, useType: WaterUseType | null, currentTier: number | null, meterNo: string | null, balance: { yuan: string } | null, arrears: { yuan: string } | null, lateFee: { yuan: string } | null, amountDue: { yuan: string } | null, location: { lon: number, lat: number } | null, freshness: { asOf: string, stale: boolean } | null } | null> | null, interactions: Array<{ id: string, at: string, channel: InteractionChannel, type: InteractionType, outcome: InteractionOutcome, summary: string, agentId: string | null }> | null, tickets: Array<{ id: string, category: TicketCategory, priority: TicketPriority, status: TicketStatus, description: string, createdAt: string }> | null, activeOutages: Array<{ id: string, kind: OutageKind, status: OutageStatus, reason: string | null, startsAt: string | null, estimatedRestoreAt: string | null }> | null } | null> | null } };

export type RevealCustomerPiiMutationVariables = Exact<{
  customerId: Scalars['ID']['input'];
  reason: Scalars['String']['input'];
}>;


export type RevealCustomerPiiMutation = { revealCustomerPii: { customerId: string, name: string, mobile: string | null, landline: string | null, idCard: string | null } };

export type WorkbenchTicketSubscriptionVariables = Exact<{
  ticketId: Scalars['ID']['input'];
}>;


export type WorkbenchTicketSubscription = { ticketUpdated: { id: string, status: TicketStatus, updatedAt: string, assignee: { name: string } | null } };
