// The staff console shell: login, role-based tabs, and the teller queue
// with live updates (Server-Sent Events, with polling as the fallback).
import { api, el, fill, formatWait, onUnauthorised, riskBadge, SCENARIO_NAMES } from "/static/console-common.js";
import { openCase, refreshIntentChoices } from "/static/case.js";
import { showProductView } from "/static/product.js";
import { showStaffView } from "/static/staff.js";

const POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const state = { user: null, view: null, events: null, poll: null, tick: null, fetchedAt: 0, openCaseId: null };

// ---- login -------------------------------------------------------------

function showLogin(message) {
  stopLive();
  state.user = null;
  $("tabs").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  document.querySelectorAll(".view").forEach((v) => (v.hidden = true));
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  $("login-username").focus();
}

async function onLogin(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const data = await api("POST", "/api/login", {
      username: $("login-username").value.trim(),
      password: $("login-password").value,
    });
    $("login-password").value = "";
    startSession(data.user);
  } catch (err) {
    $("login-error").textContent = err.status === 401 ? "用户名或密码不对。" : "登录失败：" + err.message;
  }
}

async function onLogout() {
  try {
    await api("POST", "/api/logout");
  } finally {
    showLogin("已退出。");
  }
}

const ROLE_NAMES = { teller: "柜员", supervisor: "主管", product: "产品", admin: "管理员" };

function startSession(user) {
  state.user = user;
  $("login-view").hidden = true;
  $("who").textContent = user.username + "（" + (ROLE_NAMES[user.role] || user.role) + "）";
  $("logout").hidden = false;
  let first = null;
  for (const tab of $("tabs").querySelectorAll("[role=tab]")) {
    const allowed = tab.dataset.roles.split(" ").includes(user.role);
    tab.hidden = !allowed;
    if (allowed && !first) first = tab.dataset.view;
  }
  $("tabs").hidden = false;
  refreshIntentChoices();
  if (first) showView(first);
}

// ---- tabs --------------------------------------------------------------

function showView(name) {
  state.view = name;
  for (const tab of $("tabs").querySelectorAll("[role=tab]")) {
    tab.setAttribute("aria-selected", tab.dataset.view === name ? "true" : "false");
  }
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.id !== name + "-view"));
  if (name === "queue") startLive();
  else {
    stopLive();
    if (name === "staff") showStaffView();
    else showProductView(name);
  }
}

// ---- the queue ---------------------------------------------------------

function startLive() {
  loadQueue();
  if (!state.events && window.EventSource) {
    const source = new EventSource("/api/cases/events");
    source.addEventListener("queue", () => loadQueue());
    source.onopen = () => ($("queue-live").textContent = "实时更新中");
    source.onerror = () => ($("queue-live").textContent = "实时连接中断，每 5 秒刷新");
    state.events = source;
  }
  // Polling as well: proxies that buffer event streams must not freeze the queue.
  if (!state.poll) state.poll = setInterval(loadQueue, POLL_MS);
  if (!state.tick) state.tick = setInterval(tickWaits, 1000);
}

function stopLive() {
  if (state.events) state.events.close();
  if (state.poll) clearInterval(state.poll);
  if (state.tick) clearInterval(state.tick);
  state.events = state.poll = state.tick = null;
}

let loading = null;
async function loadQueue() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const data = await api("GET", "/api/cases");
      state.fetchedAt = Date.now();
      renderQueue(data.cases || []);
    } catch (err) {
      if (err.status !== 401) $("queue-live").textContent = "队列读取失败：" + err.message;
    } finally {
      loading = null;
    }
  })();
  return loading;
}

function renderQueue(cases) {
  const body = $("queue").querySelector("tbody");
  $("queue-count").textContent = "（" + cases.length + "）";
  $("queue-empty").hidden = cases.length > 0;
  fill(
    body,
    cases.map((c) => {
      const row = el(
        "tr",
        {
          class: "case-row" + (c.case_id === state.openCaseId ? " selected" : ""),
          tabindex: 0,
          dataset: { caseId: c.case_id, risk: c.risk_level },
          onclick: () => select(c.case_id),
          onkeydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              select(c.case_id);
            }
          },
        },
        el("td", {}, riskBadge(c.risk_level, c.risk_score)),
        el("td", { class: "wait", dataset: { seconds: c.waiting_seconds } }, formatWait(c.waiting_seconds)),
        el(
          "td",
          {},
          c.customer_id || "匿名",
          c.disconnected ? el("span", { class: "tag tag-gone" }, "已挂断") : null,
          c.dialect
            ? el(
                "span",
                { class: "tag tag-dialect", title: c.routing === "everyone" ? "无会讲方言的柜员在线，已发给所有柜员" : "只发给会讲方言的柜员" },
                (c.dialect === "shanghainese" ? "上海话" : c.dialect) + (c.routing === "everyone" ? "（全员）" : "")
              )
            : null,
          c.scenario ? el("div", { class: "sub" }, SCENARIO_NAMES[c.scenario] || c.scenario) : null
        ),
        el("td", {}, c.intent_name || c.intent),
        el("td", { class: "num" }, c.amount === null || c.amount === undefined ? "" : Number(c.amount).toLocaleString("zh-CN")),
        el("td", { class: "account" }, c.payee_account || ""),
        el("td", { class: "summary" }, c.summary || "")
      );
      return row;
    })
  );
}

function tickWaits() {
  const elapsed = (Date.now() - state.fetchedAt) / 1000;
  for (const cell of document.querySelectorAll("#queue td.wait")) {
    cell.textContent = formatWait(Number(cell.dataset.seconds) + elapsed);
  }
}

function select(caseId) {
  state.openCaseId = caseId;
  for (const row of document.querySelectorAll("#queue tr.case-row")) {
    row.classList.toggle("selected", row.dataset.caseId === caseId);
  }
  openCase(caseId, loadQueue);
}

// ---- start -------------------------------------------------------------

async function main() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  for (const tab of $("tabs").querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  onUnauthorised(() => {
    if (state.user) showLogin("登录已过期，请重新登录。");
  });
  try {
    const data = await api("GET", "/api/me");
    startSession(data.user || data);
  } catch {
    showLogin();
  }
}

main();
