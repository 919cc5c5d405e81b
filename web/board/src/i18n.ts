// Chinese first (the contact centre's language), English on the toggle. Every visible label and
// every accessible name comes from here.
export type Lang = "zh" | "en";
type Dict = Record<string, string>;

const zh: Dict = {
  title: "班长看板", switchLang: "English", signOut: "退出", signInTitle: "班长登录", clientId: "客户端",
  secret: "密钥", signIn: "登录", signInHint: "演示环境的班长客户端见 docs/security.md。",
  signInFailed: "登录失败：", queue: "队列", ringing: "振铃中", answered: "通话中",
  callsLastMinute: "近一分钟来电", popP50: "弹屏 p50", popP99: "弹屏 p99", popsCounted: "近五分钟弹屏",
  callsChart: "每分钟来电（近 15 分钟）", popChart: "弹屏耗时 p50 / p99（毫秒）", agents: "坐席状态",
  agent: "坐席", state: "状态", call: "通话", duration: "时长", outages: "停水事件", outageId: "编号",
  kind: "类型", reason: "原因", restore: "预计恢复", outageCalls: "相关来电", ivrAnswered: "语音已告知", backends: "后台系统",
  backend: "系统", status: "状态", breaker: "熔断器", failureRate: "失败率", bulkhead: "并发（峰值）",
  rate: "调用速率", shed: "削减", caches: "缓存", family: "数据", hits: "命中", misses: "未命中",
  stale: "过期供数", lastStale: "上次过期供数",
  perReplica: "弹屏耗时、后台系统与缓存为本副本的数据；来电与坐席状态在各副本间同步。",
  updated: "更新于", unavailable: "暂不可用", noAgents: "暂无坐席来电", noOutages: "当前无停水",
  RINGING: "振铃", ANSWERED: "通话中", IDLE: "空闲", up: "正常", degraded: "降级", down: "中断",
  closed: "闭合", open: "断开", half_open: "半开", none: "无", PLANNED: "计划停水", EMERGENCY: "抢修停水",
  billing: "营收", crm: "客户关系", gis: "管网地理", workorders: "工单", secondsAgo: "秒前", never: "从未",
  accounts: "账户", outages_family: "停水", service_connections: "接水点", segments: "管段",
  calls: "来电", perMinute: "每分钟来电", ms: "毫秒", boardError: "看板数据读取失败：",
};

const en: Dict = {
  title: "Supervisor board", switchLang: "中文", signOut: "Sign out", signInTitle: "Supervisor sign-in",
  clientId: "Client", secret: "Secret", signIn: "Sign in",
  signInHint: "The demo's supervisor client is listed in docs/security.md.", signInFailed: "Sign-in failed: ",
  queue: "Queue", ringing: "Ringing", answered: "On call", callsLastMinute: "Calls, last minute",
  popP50: "Screen pop p50", popP99: "Screen pop p99", popsCounted: "Pops, last 5 min",
  callsChart: "Calls per minute (last 15 minutes)", popChart: "Screen pop p50 / p99 (ms)", agents: "Agents",
  agent: "Agent", state: "State", call: "Call", duration: "Time", outages: "Outages", outageId: "Id",
  kind: "Kind", reason: "Reason", restore: "Est. restore", outageCalls: "Calls on now", ivrAnswered: "Told by the IVR",
  backends: "Back offices", backend: "System", status: "Status", breaker: "Breaker", failureRate: "Failures",
  bulkhead: "In flight (peak)", rate: "Calls/s", shed: "Shed", caches: "Cache", family: "Data",
  hits: "Hits", misses: "Misses", stale: "Stale serves", lastStale: "Last stale serve",
  perReplica: "Pop times, back offices and cache are this replica's; calls and agents are shared by all replicas.",
  updated: "Updated", unavailable: "unavailable", noAgents: "No agent has had a call yet", noOutages: "No active outage",
  RINGING: "Ringing", ANSWERED: "On call", IDLE: "Idle", up: "up", degraded: "degraded", down: "down",
  closed: "closed", open: "open", half_open: "half open", none: "none", PLANNED: "planned", EMERGENCY: "emergency",
  billing: "Billing", crm: "CRM", gis: "GIS", workorders: "Work orders", secondsAgo: "s ago", never: "never",
  accounts: "accounts", outages_family: "outages", service_connections: "service connections", segments: "mains",
  calls: "calls", perMinute: "Calls per minute", ms: "ms", boardError: "Could not read the board: ",
};

let current: Lang = "zh";

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n ?? "");
  }
  const button = document.getElementById("lang");
  button?.setAttribute("aria-pressed", String(next === "en"));
  document.title = `Tidegate · ${t("title")}`;
}

export function t(key: string): string {
  return (current === "zh" ? zh : en)[key] ?? key;
}
