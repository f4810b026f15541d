// One case in the teller console: transcript with highlighted dialect words
// and fraud evidence, the form (editable, with confidence and source), the
// intent, risk flags with advice, the decision, and the audit trail.
import {
  api, CATEGORY_NAMES, compact, DIALECT_NAMES, el, fill, FLAG_NAMES, formatTime, highlight,
  INTENT_NAMES, percent, riskBadge, SCENARIO_NAMES, SLOT_NAMES, SOURCE_NAMES, STATUS_NAMES,
} from "/static/console-common.js";

/** code -> name of the intents a teller may choose (the catalog when readable). */
let intentChoices = { ...INTENT_NAMES };

/** Load the catalog's intent codes (GET /api/intents is open to every staff role). */
export async function refreshIntentChoices() {
  try {
    const data = await api("GET", "/api/intents");
    const choices = {};
    for (const spec of data.intents || []) choices[spec.code] = spec.name || spec.code;
    if (Object.keys(choices).length) intentChoices = choices;
  } catch {
    // Server unreachable: keep the taxonomy's codes, the catalog's public core.
  }
}

/** Why the case reached a teller (Case.handoff_reason). */
const HANDOFF_NAMES = {
  recording: "录音上传",
  complete: "信息已确认",
  teller_request: "客户要求人工",
  risk: "高风险，立即转人工",
  unclear_limit: "多次听不清",
  caller_hangup: "客户挂机",
  disconnected: "连接中断",
  dialect_speech: "客户说方言，需会讲方言的柜员",
};

const AUDIT_NAMES = {
  "recording.played": "收听录音",
  "recording.purged": "录音到期删除",
  "case.created": "创建",
  "case.corrected": "更正",
  "case.accept": "接受",
  "case.reject": "拒绝",
  "case.escalate": "升级",
  "case.disconnected": "客户挂断",
  "case.reconnected": "客户重连",
  "correction.accept": "纠正已采纳",
  "correction.reject": "纠正未采纳",
};

const detailEl = () => document.getElementById("detail");

/** Show case ``caseId``; ``onChanged`` runs after the teller changes it. */
export async function openCase(caseId, onChanged) {
  const node = detailEl();
  node.hidden = false;
  fill(node, el("p", { class: "note" }, "正在读取案件…"));
  try {
    const detail = await api("GET", "/api/cases/" + encodeURIComponent(caseId));
    render(detail, onChanged);
  } catch (err) {
    fill(node, el("p", { class: "error", role: "alert" }, "案件读取失败：" + err.message));
  }
}

function terms(c) {
  const out = [];
  for (const f of (c.risk && c.risk.flags) || []) {
    if (f.evidence) {
      out.push({ term: f.evidence, cls: "ev ev-" + f.category, title: FLAG_NAMES[f.code] || f.code });
    }
  }
  for (const m of (c.dialect && c.dialect.markers) || []) {
    out.push({ term: m, cls: "dialect", title: "上海话" });
  }
  return out;
}

const FRAUD_PARTS = { pretext: "借口（对方自称）", ask: "要求（钱、验证码、软件…）", pressure: "施压（催促、保密、威胁）" };

/** A scam's three parts in the customer's own words, and which part is still missing. */
function fraudStructure(fraud) {
  if (!fraud) return null;
  const heard = Object.keys(FRAUD_PARTS).filter((p) => (fraud[p] || []).length);
  if (!heard.length && !fraud.script) return null;
  return el(
    "dl",
    { class: "fraud-structure", id: "fraud-structure" },
    Object.entries(FRAUD_PARTS).flatMap(([part, name]) => [
      el("dt", {}, name),
      el(
        "dd",
        { dataset: { part }, class: (fraud[part] || []).length ? "heard" : "missing" },
        (fraud[part] || []).length
          ? (fraud[part] || []).map((p) => el("mark", { class: "ev ev-fraud" }, p.evidence))
          : "未提到——请向客户问清"
      ),
    ]),
    fraud.script ? [el("dt", {}, "已知骗局话术"), el("dd", {}, FLAG_NAMES[fraud.script] || fraud.script)] : null
  );
}

function section(title, ...children) {
  return el("section", { class: "block" }, el("h3", {}, title), ...children);
}

function render(detail, onChanged) {
  const c = detail.case;
  const status = detail.status || c.status;
  const marks = terms(c);
  const segments = c.transcript && c.transcript.length ? c.transcript : [
    { start: null, end: null, text: c.text, normalized_text: c.normalized_text, unclear: false },
  ];

  const header = el(
    "header",
    { class: "detail-head" },
    el("h2", {}, "案件 ", el("code", {}, c.case_id)),
    el(
      "p",
      { class: "meta" },
      riskBadge(c.risk.level, c.risk.score),
      el("span", { class: "status status-" + status, id: "case-status" }, STATUS_NAMES[status] || status),
      detail.disconnected || c.disconnected ? el("span", { class: "tag tag-gone" }, "客户已挂断") : null,
      el("span", {}, "客户：" + (c.customer_id || "匿名")),
      c.scenario ? el("span", {}, "来由：" + (SCENARIO_NAMES[c.scenario] || c.scenario)) : null,
      c.handoff_reason
        ? el("span", { id: "handoff-reason" }, "转交原因：" + (HANDOFF_NAMES[c.handoff_reason] || c.handoff_reason))
        : null,
      c.needs_repeat ? el("span", { class: "tag tag-gone" }, "语音不清，需与客户确认") : null,
      el("span", {}, "时间：" + formatTime(c.created_at))
    ),
    el("p", { class: "summary-line" }, c.summary || "")
  );

  const transcript = section(
    "通话记录",
    el(
      "ol",
      { class: "transcript" },
      segments.map((s, i) =>
        el(
          "li",
          { class: s.unclear ? "unclear" : null },
          s.start === null || s.start === undefined ? null
            : el("span", { class: "time" }, Number(s.start).toFixed(1) + "–" + Number(s.end).toFixed(1) + " 秒"),
          s.unclear ? el("span", { class: "tag" }, "听不清") : null,
          s.dialect ? el("span", { class: "tag tag-dialect" }, "方言语音") : null,
          el("p", { class: "orig" }, el("span", { class: "lbl" }, "原话"), highlight(s.text, marks)),
          el("p", { class: "mand" }, el("span", { class: "lbl" }, "普通话"), highlight(s.normalized_text, marks)),
          // Each turn's own audio, beside its words (the server audits every playback).
          s.has_audio
            ? el("audio", {
                class: "turn-audio",
                controls: true,
                preload: "none",
                src: "/api/cases/" + encodeURIComponent(c.case_id) + "/recordings/" + i,
                "aria-label": "第 " + (i + 1) + " 句录音",
              })
            : null
        )
      )
    ),
    el(
      "p",
      { class: "dialect-line" },
      "方言：" + (DIALECT_NAMES[c.dialect.code] || c.dialect.code) + "（" + percent(c.dialect.confidence) + "）",
      c.dialect.source === "speech" ? el("span", { class: "tag tag-dialect", id: "dialect-speech" }, "从语音判断：系统听不懂，请会讲方言的柜员处理") : null,
      (c.dialect.markers || []).length ? " 标志词：" : null,
      (c.dialect.markers || []).map((m) => el("mark", { class: "dialect" }, m))
    )
  );

  const flags = (c.risk.flags || []).length
    ? el(
        "ul",
        { class: "flags" },
        c.risk.flags.map((f) =>
          el(
            "li",
            { class: "flag flag-" + f.category, dataset: { code: f.code } },
            el("strong", {}, FLAG_NAMES[f.code] || f.code),
            el("span", { class: "cat" }, "（" + (CATEGORY_NAMES[f.category] || f.category) + "）"),
            f.evidence ? el("span", {}, " 证据：", el("mark", { class: "ev ev-" + f.category }, f.evidence)) : null,
            el("div", { class: "advice" }, "建议：" + (f.advice || ""))
          )
        )
      )
    : el("p", { class: "note" }, "没有风险提示。");
  const risk = section(
    "风险",
    el("p", {}, riskBadge(c.risk.level, c.risk.score), " 分数 " + Number(c.risk.score).toFixed(2)),
    fraudStructure(c.risk.fraud),
    flags
  );

  const form = formSection(c, status, onChanged);
  const decision = decisionSection(c, detail, status, onChanged);
  const audit = section(
    "操作记录",
    el(
      "ol",
      { class: "audit", id: "audit" },
      (detail.audit || []).map((a) =>
        el(
          "li",
          { dataset: { action: a.action } },
          el("span", { class: "time" }, formatTime(a.at)),
          " ",
          el("strong", {}, a.actor),
          " ",
          AUDIT_NAMES[a.action] || a.action,
          a.reason ? el("span", { class: "reason" }, "理由：" + a.reason) : null,
          a.before || a.after
            ? el("div", { class: "change" }, compact(a.before), " → ", compact(a.after))
            : null
        )
      )
    )
  );
  fill(detailEl(), header, risk, transcript, form, decision, audit);
}

function formSection(c, status, onChanged) {
  const fields = (c.form && c.form.fields) || {};
  const missing = (c.form && c.form.missing) || [];
  const codes = [...Object.keys(fields), ...missing.filter((m) => !(m in fields))];
  const open = status === "open" || status === "escalated";
  const message = el("p", { class: "form-message", role: "status" });

  const intentSelect = el(
    "select",
    { id: "intent-select", "aria-label": "业务类型", disabled: !open },
    Object.entries({ ...intentChoices, ...(intentChoices[c.intent.code] ? {} : { [c.intent.code]: c.intent.code }) })
      .map(([code, name]) => el("option", { value: code, selected: code === c.intent.code }, name + "（" + code + "）"))
  );

  const rows = codes.map((code) => fieldRow(code, fields[code], missing.includes(code), open));
  const table = el(
    "table",
    { class: "form-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "字段"), el("th", {}, "值"), el("th", {}, "置信度"), el("th", {}, "来源"), el("th", {}, "依据"))),
    el("tbody", {}, rows)
  );
  const addable = Object.keys(SLOT_NAMES).filter((s) => !codes.includes(s));
  const addSelect = el(
    "select",
    { "aria-label": "添加字段", disabled: !open || !addable.length },
    el("option", { value: "" }, "添加字段…"),
    addable.map((s) => el("option", { value: s }, SLOT_NAMES[s]))
  );
  addSelect.addEventListener("change", () => {
    const code = addSelect.value;
    if (!code) return;
    table.tBodies[0].append(fieldRow(code, undefined, false, open));
    addSelect.querySelector(`option[value="${code}"]`).remove();
    addSelect.value = "";
  });
  const reason = el("input", { id: "correction-reason", placeholder: "更正理由（可选）", disabled: !open });
  const save = el("button", { type: "button", id: "save-correction", disabled: !open }, "保存更正");
  save.addEventListener("click", async () => {
    const body = {};
    if (intentSelect.value !== c.intent.code) body.intent = intentSelect.value;
    const changed = {};
    for (const input of table.querySelectorAll("input[data-slot]")) {
      const value = input.value.trim();
      if (value !== input.dataset.original) changed[input.dataset.slot] = value === "" ? null : value;
    }
    if (Object.keys(changed).length) body.fields = changed;
    if (!body.intent && !body.fields) {
      message.textContent = "没有改动。";
      return;
    }
    if (reason.value.trim()) body.reason = reason.value.trim();
    save.disabled = true;
    try {
      const detail = await api("PATCH", "/api/cases/" + encodeURIComponent(c.case_id), body);
      render(detail, onChanged);
      onChanged();
      document.querySelector("#detail .form-message").textContent = "已保存更正。";
    } catch (err) {
      message.textContent = "保存失败：" + err.message;
      message.classList.add("error");
      save.disabled = false;
    }
  });
  return section(
    "表单",
    el("p", {}, el("label", {}, "业务类型 ", intentSelect), " 置信度 " + percent(c.intent.confidence),
      c.intent.source === "teller" ? el("span", { class: "tag" }, "柜员更正") : null),
    (c.intent.alternatives || []).length
      ? el("p", { class: "sub" }, "其他可能：", c.intent.alternatives.map((a) => (intentChoices[a.code] || a.code) + " " + percent(a.confidence)).join("，"))
      : null,
    table,
    missing.length ? el("p", { class: "missing" }, "缺少：" + missing.map((m) => SLOT_NAMES[m] || m).join("、")) : null,
    el("p", { class: "form-actions" }, addSelect, " ", reason, " ", save),
    message
  );
}

function fieldRow(code, field, isMissing, open) {
  const value = field ? String(field.value) : "";
  const input = el("input", {
    id: "field-" + code,
    value,
    disabled: !open,
    "aria-label": SLOT_NAMES[code] || code,
    placeholder: isMissing ? "缺少" : "",
    dataset: { slot: code, original: value },
  });
  return el(
    "tr",
    { class: (isMissing ? "missing-row " : "") + "field-row", dataset: { slot: code } },
    el("th", { scope: "row" }, SLOT_NAMES[code] || code),
    el("td", {}, input),
    el("td", { class: "conf" }, field ? percent(field.confidence) : ""),
    el("td", { class: "source" }, field ? SOURCE_NAMES[field.source] || field.source : ""),
    el("td", { class: "evidence" }, field && field.evidence ? field.evidence : "")
  );
}

function decisionSection(c, detail, status, onChanged) {
  if (status !== "open" && status !== "escalated") {
    const d = detail.decision || {};
    return section(
      "处理结果",
      el(
        "p",
        { id: "decision-result" },
        STATUS_NAMES[status] || status,
        d.by ? "（" + d.by + "，" + formatTime(d.at) + "）" : "",
        d.reason ? " 理由：" + d.reason : ""
      )
    );
  }
  const reason = el("textarea", { id: "decision-reason", rows: 2, placeholder: "理由（拒绝或升级时必填）" });
  const message = el("p", { class: "decision-message", role: "alert" });
  const decide = async (decision) => {
    const text = reason.value.trim();
    if (decision !== "accept" && !text) {
      message.textContent = "拒绝或升级必须写理由。";
      reason.focus();
      return;
    }
    try {
      const updated = await api("POST", "/api/cases/" + encodeURIComponent(c.case_id) + "/decision", {
        decision,
        reason: text || null,
      });
      render(updated, onChanged);
      onChanged();
    } catch (err) {
      message.textContent = "操作失败：" + err.message;
    }
  };
  return section(
    "处理",
    el("label", { for: "decision-reason" }, "理由"),
    reason,
    el(
      "p",
      { class: "decision-buttons" },
      el("button", { type: "button", class: "accept", id: "decide-accept", onclick: () => decide("accept") }, "接受"),
      el("button", { type: "button", class: "reject", id: "decide-reject", onclick: () => decide("reject") }, "拒绝"),
      el("button", { type: "button", class: "escalate", id: "decide-escalate", onclick: () => decide("escalate") }, "升级")
    ),
    message
  );
}
