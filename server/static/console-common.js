// Shared helpers of the staff console: DOM building (text only, never
// innerHTML with data, so a transcript can't inject markup), the JSON API
// client, highlighting, and the Chinese labels of the taxonomy's codes.

/** Build an element: el("td", {class: "x", onclick: f}, "text", child, ...). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Raised for non-2xx answers; ``message`` is the server's ``error`` line. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Listeners told when any call answers 401 (the session ended). */
const unauthorised = [];
export function onUnauthorised(fn) {
  unauthorised.push(fn);
}

/** Call the JSON API with the session cookie; throw ApiError on failure. */
export async function api(method, path, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json();
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/login") unauthorised.forEach((fn) => fn());
    const message = (data && data.error) || response.status + " " + response.statusText;
    throw new ApiError(response.status, message, data);
  }
  return data;
}

/**
 * Text with the given terms wrapped in <mark class="...">.
 *
 * Longer terms win where terms overlap (安全账户 over 账户), so one word is
 * never marked twice.
 * @param {string} text
 * @param {{term: string, cls: string, title?: string}[]} terms
 */
export function highlight(text, terms) {
  const out = document.createDocumentFragment();
  text = text || "";
  const usable = terms
    .filter((t) => t.term && t.term.length > 0)
    .sort((a, b) => b.term.length - a.term.length);
  const taken = new Array(text.length).fill(null);
  for (const t of usable) {
    let from = 0;
    for (;;) {
      const at = text.indexOf(t.term, from);
      if (at < 0) break;
      from = at + 1;
      let free = true;
      for (let i = at; i < at + t.term.length; i++) if (taken[i]) free = false;
      if (!free) continue;
      for (let i = at; i < at + t.term.length; i++) taken[i] = t;
    }
  }
  let i = 0;
  while (i < text.length) {
    const t = taken[i];
    let j = i;
    while (j < text.length && taken[j] === t) j++;
    // Adjacent matches of one term are one run; split them back by length.
    if (t) {
      for (let k = i; k < j; k += t.term.length) {
        out.append(el("mark", { class: t.cls, title: t.title || null }, text.slice(k, k + t.term.length)));
      }
    } else {
      out.append(text.slice(i, j));
    }
    i = j;
  }
  return out;
}

export const RISK_TEXT = { high: "高", medium: "中", low: "低", none: "无" };

/** A risk badge: colour AND text, so it reads without colour vision. */
export function riskBadge(level, score) {
  const lvl = RISK_TEXT[level] ? level : "none";
  const label = "风险" + RISK_TEXT[lvl];
  return el(
    "span",
    { class: "risk risk-" + lvl, title: score === undefined ? null : "分数 " + Number(score).toFixed(2) },
    label
  );
}

export const INTENT_NAMES = {
  transfer: "转账汇款",
  balance_inquiry: "余额查询",
  transaction_history: "交易明细",
  time_deposit: "定期存款",
  password_reset: "密码重置",
  card_loss: "挂失",
  limit_adjustment: "限额调整",
  pension_inquiry: "养老金查询",
  card_activation: "卡片激活",
  mobile_banking_help: "手机银行指导",
  report_fraud: "报告诈骗",
  speak_to_teller: "转人工",
  out_of_scope: "其他",
};

export const SLOT_NAMES = {
  amount: "金额（元）",
  payee_name: "收款人姓名",
  payee_relation: "收款人关系",
  payee_account: "收款账号",
  payee_bank: "收款银行",
  term_months: "存期（月）",
  medium: "介质",
};

export const FLAG_NAMES = {
  safe_account: "安全账户",
  impersonate_authority: "冒充公检法",
  impersonate_service: "冒充客服/电商物流",
  impersonate_acquaintance: "冒充亲友/领导",
  investment_fraud: "虚假投资理财",
  loan_fraud: "虚假网络贷款",
  credit_repair: "虚假征信",
  task_rebate: "刷单返利",
  romance_fraud: "网络婚恋交友",
  remote_control: "屏幕共享/远程控制",
  prize_fraud: "虚假中奖",
  kidnapping_hoax: "虚构绑架/出事",
  secrecy_pressure: "保密与催促",
  third_party_instruction: "他人指使",
  fraud_reported: "客户报告被骗",
  large_amount: "大额",
  unusual_amount: "金额异常",
  new_payee: "新收款人",
  blacklisted_payee: "黑名单收款人",
  limit_raise_before_transfer: "提额后转账",
  elderly: "老年客户",
  repeated_attempts: "多次尝试",
};

export const CATEGORY_NAMES = { fraud: "诈骗", transaction: "交易", customer: "客户" };
export const SOURCE_NAMES = { speech: "语音", customer_profile: "客户档案", teller: "柜员" };
export const DIALECT_NAMES = { mandarin: "普通话", shanghainese: "上海话" };
export const SCENARIO_NAMES = {
  password_locked: "密码锁定",
  transfer_over_limit: "转账超限",
  limit_adjustment: "限额调整",
};
export const STATUS_NAMES = {
  open: "待处理",
  accepted: "已接受",
  rejected: "已拒绝",
  escalated: "已升级",
};

/** "3 分 05 秒" style waiting time. */
export function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return s + " 秒";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " 分 " + String(s % 60).padStart(2, "0") + " 秒";
  return Math.floor(m / 60) + " 小时 " + String(m % 60).padStart(2, "0") + " 分";
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("zh-CN", { hour12: false });
}

export function percent(x) {
  return x === null || x === undefined ? "" : Math.round(Number(x) * 100) + "%";
}

/** Replace the children of ``node``. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Key-value pairs as compact readable text, for slots and audit values. */
export function compact(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return String(value);
  return JSON.stringify(value);
}
