// Product staff's views: the intent catalog (add examples), try a sentence
// (with the words that drove the intent highlighted), the corrections inbox,
// and the latest evaluation report.
import {
  api, CATEGORY_NAMES, compact, DIALECT_NAMES, el, fill, FLAG_NAMES, formatTime, highlight,
  percent, riskBadge, SLOT_NAMES,
} from "/static/console-common.js";

const $ = (id) => document.getElementById(id);
let names = {};

/** Load and show the product view ``name`` (catalog, try, corrections, eval). */
export function showProductView(name) {
  if (name === "catalog") return loadCatalog();
  if (name === "try") return initTry();
  if (name === "corrections") return loadCorrections();
  if (name === "eval") return loadEval();
  return null;
}

/** The catalog's intent names, for showing codes as words (loaded once). */
async function ensureNames() {
  if (Object.keys(names).length) return;
  const catalog = await api("GET", "/api/catalog");
  names = Object.fromEntries((catalog.intents || []).map((i) => [i.code, i.name]));
}

function failure(node, err) {
  fill(node, el("p", { class: "error", role: "alert" }, err.message));
}

// ---- catalog -----------------------------------------------------------

async function loadCatalog() {
  const node = $("catalog");
  try {
    const data = await api("GET", "/api/catalog");
    names = Object.fromEntries((data.intents || []).map((i) => [i.code, i.name]));
    fill(node, [versionLine(data), addIntentForm(), ...(data.intents || []).map(intentCard)]);
  } catch (err) {
    failure(node, err);
  }
}

/** The catalog version every server uses, and who made it (updated after each edit). */
function versionLine(data) {
  const line = el("p", { id: "catalog-version", class: "sub" });
  showVersion(line, data.version, data.updated_by, data.updated_at);
  return line;
}

function showVersion(line, version, by, at) {
  if (!line) return;
  line.dataset.version = String(version);
  const who = by ? "，" + by + (at ? " 于 " + formatTime(at) : "") + " 修改" : "";
  line.textContent = "目录版本 v" + version + who + "（所有服务器几秒内用上新版本）";
}

/** Field names of the catalog, for saying what someone else changed. */
const FIELD_NAMES = {
  name: "名称", description: "说明", slots: "字段", required: "必填", prompts: "追问",
  readback: "核对模板", summary: "摘要模板", scenarios: "场景", examples: "例句", intent: "意图",
};

/** Template parts as text: one part per line, alternatives separated by " | ". */
function templateText(parts) {
  return (parts || []).map((p) => (Array.isArray(p) ? p.join(" | ") : p)).join("\n");
}

function templateParts(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => (line.includes("|") ? line.split("|").map((x) => x.trim()) : line));
}

function lines(text) {
  return text.split("\n").map((x) => x.trim()).filter(Boolean);
}

/** A form to add an intent: it gets prompts, a read-back and a summary from what is typed. */
function addIntentForm() {
  const field = (name, label, attrs = {}) => {
    const input = el(attrs.rows ? "textarea" : "input", { name, "aria-label": label, ...attrs });
    return [el("label", {}, label, input), input];
  };
  const [codeL, code] = field("code", "代码（英文）", { placeholder: "bill_payment" });
  const [nameL, name] = field("name", "名称", { placeholder: "生活缴费" });
  const [descL, desc] = field("description", "说明");
  const [slotsL, slots] = field("slots", "字段（逗号分隔）", { placeholder: "amount" });
  const [reqL, req] = field("required", "必填（逗号分隔）", { placeholder: "amount" });
  const [promptsL, prompts] = field("prompts", "追问（每行 字段: 问题）", { rows: 2 });
  const [readL, read] = field("readback", "核对模板（每行一段，可选项用 | 分隔；留空用默认）", { rows: 3 });
  const [sumL, sum] = field("summary", "摘要模板（同上；留空用默认）", { rows: 2 });
  const [exL, ex] = field("examples", "例句（每行一句）", { rows: 3 });
  const message = el("span", { class: "note", role: "status" });
  const form = el(
    "form",
    { class: "add-intent" },
    codeL, nameL, descL, slotsL, reqL, promptsL, readL, sumL, exL,
    el("button", { type: "submit" }, "新增意图"),
    message
  );
  const csv = (v) => v.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      code: code.value.trim(),
      name: name.value.trim(),
      description: desc.value.trim() || name.value.trim(),
      slots: csv(slots.value),
      required: csv(req.value).map((s) => [s]),
      prompts: Object.fromEntries(
        lines(prompts.value)
          .map((l) => l.split(/[:：]/))
          .filter((kv) => kv.length >= 2)
          .map(([k, ...v]) => [k.trim(), v.join(":").trim()])
      ),
      examples: lines(ex.value),
    };
    if (read.value.trim()) body.readback = templateParts(read.value);
    if (sum.value.trim()) body.summary = templateParts(sum.value);
    try {
      const added = await api("POST", "/api/catalog/intents", body);
      message.textContent = "已新增（目录版本 v" + added.version + "）。";
      await loadCatalog();
    } catch (err) {
      message.textContent = "新增失败：" + err.message;
    }
  });
  return el("details", { class: "intent-card add-intent-card" }, el("summary", {}, el("strong", {}, "＋ 新增意图")), form);
}

function intentCard(spec) {
  // The revision this card shows: sent as If-Match so nobody's edit is overwritten.
  let revision = spec.revision;
  const count = el("span", { class: "sub" }, "（" + spec.examples.length + " 个例句）");
  const list = el("ul", { class: "examples" }, spec.examples.map((x) => el("li", {}, x)));
  const input = el("input", { "aria-label": "新例句：" + spec.name, placeholder: "新例句" });
  const message = el("span", { class: "note", role: "status" });
  const form = el(
    "form",
    { class: "add-example" },
    input,
    el("button", { type: "submit" }, "添加例句"),
    message
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const showExamples = (examples) => {
      fill(list, (examples || []).map((x) => el("li", {}, x)));
      count.textContent = "（" + (examples || []).length + " 个例句）";
    };
    try {
      const data = await api(
        "POST",
        "/api/catalog/" + encodeURIComponent(spec.code) + "/examples",
        { text },
        { "If-Match": '"' + revision + '"' }
      );
      revision = data.revision;
      card.dataset.revision = String(revision);
      showExamples(data.examples);
      showVersion($("catalog-version"), data.version, "您");
      input.value = "";
      message.textContent = "已添加（目录版本 v" + data.version + "）。";
    } catch (err) {
      if (err.status !== 409 || !err.body || !err.body.current) {
        message.textContent = "添加失败：" + err.message;
        return;
      }
      // Someone else changed this intent since it was shown: nothing was saved.
      const stale = err.body;
      revision = stale.revision;
      card.dataset.revision = String(revision);
      showExamples(stale.current.examples);
      showVersion($("catalog-version"), stale.version);
      const what = (stale.changed || []).map((f) => FIELD_NAMES[f] || f).join("、");
      message.classList.add("conflict");
      message.textContent =
        "未保存：此意图刚被他人修改" + (what ? "（" + what + "）" : "") +
        "，已载入最新内容（目录版本 v" + stale.version + "）。请核对后再点一次“添加例句”。";
    }
  });
  const required = (spec.required || []).map((g) => g.map((s) => SLOT_NAMES[s] || s).join(" 或 "));
  const card = el(
    "details",
    { class: "intent-card", dataset: { intent: spec.code, revision: String(revision) } },
    el("summary", {}, el("strong", {}, spec.name), " ", el("code", {}, spec.code), " ", count),
    el("p", {}, spec.description || ""),
    el("p", { class: "sub" }, "字段：" + ((spec.slots || []).map((s) => SLOT_NAMES[s] || s).join("、") || "无")),
    required.length ? el("p", { class: "sub" }, "必填：" + required.join("；")) : null,
    Object.keys(spec.prompts || {}).length
      ? el("p", { class: "sub" }, "追问：" + Object.entries(spec.prompts).map(([k, v]) => (SLOT_NAMES[k] || k) + "：" + v).join("；"))
      : null,
    el("p", { class: "sub template", dataset: { template: "readback" } }, "核对：" + templateText(spec.readback).replaceAll("\n", " ＋ ")),
    el("p", { class: "sub template", dataset: { template: "summary" } }, "摘要：" + templateText(spec.summary).replaceAll("\n", " ＋ ")),
    ...Object.entries(spec.scenarios || {}).map(([sc, v]) =>
      el("p", { class: "sub" }, "场景 " + sc + "：" + v.greeting)
    ),
    list,
    form
  );
  return card;
}

// ---- try a sentence ----------------------------------------------------

let tryReady = false;
function initTry() {
  if (tryReady) return;
  tryReady = true;
  $("try-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("try-text").value.trim();
    if (!text) return;
    const body = { text };
    const customer = $("try-customer").value.trim();
    if (customer) body.customer_id = customer;
    const node = $("try-result");
    fill(node, el("p", { class: "note" }, "正在理解…"));
    try {
      const understanding = await api("POST", "/api/catalog/try", body);
      await ensureNames().catch(() => {});
      showUnderstanding(node, understanding);
    } catch (err) {
      failure(node, err);
    }
  });
}

function showUnderstanding(node, u) {
  const drivers = (u.intent.drivers || []).map((d) => ({ term: d, cls: "driver", title: "影响判断的词" }));
  const markers = (u.dialect.markers || []).map((m) => ({ term: m, cls: "dialect", title: "上海话" }));
  const evidence = (u.risk.flags || [])
    .filter((f) => f.evidence)
    .map((f) => ({ term: f.evidence, cls: "ev ev-" + f.category, title: FLAG_NAMES[f.code] || f.code }));
  const slots = Object.entries(u.slots || {});
  fill(
    node,
    el(
      "dl",
      { class: "understanding" },
      el("dt", {}, "业务"),
      el(
        "dd",
        { id: "try-intent", dataset: { intent: u.intent.code } },
        el("strong", {}, names[u.intent.code] || u.intent.code),
        " ",
        el("code", {}, u.intent.code),
        " 置信度 " + percent(u.intent.confidence)
      ),
      el("dt", {}, "其他可能"),
      el("dd", {}, (u.intent.alternatives || []).map((a) => (names[a.code] || a.code) + " " + percent(a.confidence)).join("，") || "—"),
      el("dt", {}, "原话"),
      el("dd", { class: "orig" }, highlight(u.text, [...markers, ...evidence])),
      el("dt", {}, "普通话"),
      el("dd", { class: "mand", id: "try-normalized" }, highlight(u.normalized_text, [...drivers, ...evidence])),
      el("dt", {}, "关键词"),
      el("dd", {}, drivers.length ? drivers.map((d) => el("mark", { class: "driver" }, d.term)) : "—"),
      el("dt", {}, "方言"),
      el("dd", {}, (DIALECT_NAMES[u.dialect.code] || u.dialect.code) + "（" + percent(u.dialect.confidence) + "）",
        markers.length ? " 标志词：" : null, markers.map((m) => el("mark", { class: "dialect" }, m.term))),
      el("dt", {}, "字段"),
      el("dd", {}, slots.length ? slots.map(([k, v]) => (SLOT_NAMES[k] || k) + "：" + v).join("；") : "—"),
      el("dt", {}, "风险"),
      el(
        "dd",
        {},
        riskBadge(u.risk.level, u.risk.score),
        el(
          "ul",
          { class: "flags" },
          (u.risk.flags || []).map((f) =>
            el("li", { class: "flag flag-" + f.category },
              el("strong", {}, FLAG_NAMES[f.code] || f.code),
              "（" + (CATEGORY_NAMES[f.category] || f.category) + "）",
              f.evidence ? " 证据：" + f.evidence : "",
              el("div", { class: "advice" }, "建议：" + (f.advice || "")))
          )
        )
      )
    )
  );
}

// ---- corrections inbox -------------------------------------------------

async function loadCorrections() {
  const node = $("corrections");
  try {
    await ensureNames();
    const data = await api("GET", "/api/corrections?status=pending");
    const items = data.corrections || [];
    if (!items.length) {
      fill(node, el("p", { class: "empty" }, "没有待审核的纠正。"));
      return;
    }
    fill(
      node,
      el(
        "table",
        { class: "corrections" },
        el("thead", {}, el("tr", {}, ["编号", "案件", "原话", "业务", "字段", "柜员", "时间", "审核"].map((h) => el("th", {}, h)))),
        el("tbody", {}, items.map(correctionRow))
      )
    );
  } catch (err) {
    failure(node, err);
  }
}

function correctionRow(c) {
  const review = async (decision, row) => {
    try {
      await api("POST", "/api/corrections/" + c.id + "/review", { decision });
      row.querySelector(".review").replaceChildren(decision === "accept" ? "已采纳" : "未采纳");
      row.classList.add("reviewed");
    } catch (err) {
      row.querySelector(".review").append(el("span", { class: "error" }, err.message));
    }
  };
  const row = el(
    "tr",
    { class: "correction-row", dataset: { id: c.id, caseId: c.case_id } },
    el("td", {}, String(c.id)),
    el("td", {}, el("code", {}, c.case_id)),
    el("td", {}, c.text || ""),
    el("td", {}, (names[c.intent] || "") + " " + c.intent),
    el("td", {}, Object.entries(c.slots || {}).map(([k, v]) => (SLOT_NAMES[k] || k) + "：" + compact(v)).join("；")),
    el("td", {}, c.created_by || ""),
    el("td", {}, formatTime(c.created_at)),
    el(
      "td",
      { class: "review" },
      el("button", { type: "button", class: "accept", onclick: () => review("accept", row) }, "采纳"),
      " ",
      el("button", { type: "button", class: "reject", onclick: () => review("reject", row) }, "不采纳")
    )
  );
  return row;
}

// ---- evaluation --------------------------------------------------------

async function loadEval() {
  const node = $("eval");
  try {
    const data = await api("GET", "/api/eval/latest");
    const report = data.report || data;
    const numbers = Object.entries(report).filter(([, v]) => typeof v === "number");
    fill(
      node,
      numbers.length
        ? el("dl", { class: "eval-numbers" }, numbers.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, Number.isInteger(v) ? String(v) : v.toFixed(3))]))
        : null,
      report.created_at || report.generated_at ? el("p", { class: "sub" }, "生成时间：" + formatTime(report.created_at || report.generated_at)) : null,
      data.html
        ? [
            el("p", {}, el("a", { href: data.html, target: "_blank", rel: "noopener" }, "在新窗口打开报告")),
            el("iframe", { src: data.html, title: "评估报告", class: "eval-frame" }),
          ]
        : el("p", { class: "note" }, "这份报告没有 HTML 版本。")
    );
  } catch (err) {
    if (err.status === 404) {
      fill(node, el("p", { class: "empty" }, "还没有评估报告。运行 frontdesk intents eval 生成。"), el("p", { class: "sub" }, err.message));
    } else {
      failure(node, err);
    }
  }
}
