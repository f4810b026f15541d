// The admin's 员工 tab: every staff account with its role, languages, last
// login and activity, and for tellers and supervisors (the roles a dialect
// case is routed to) a checkbox per language the server supports. Saving
// PATCHes /api/admin/users/NAME; the server's error line is shown as is, and
// the audited change appears in the list of recent changes below.
import { api, el, fill, formatTime } from "/static/console-common.js";

const $ = (id) => document.getElementById(id);
const ROLE_NAMES = { teller: "柜员", supervisor: "主管", product: "产品", admin: "管理员" };
/** Roles whose languages decide which dialect cases they are sent (server.routing). */
const ROUTED_ROLES = ["teller", "supervisor"];

let languageNames = {};

/** Load and show the staff list (the server audits each read). */
export async function showStaffView() {
  const node = $("staff");
  try {
    const data = await api("GET", "/api/admin/staff");
    languageNames = Object.fromEntries((data.languages || []).map((l) => [l.code, l.name]));
    fill(node, staffTable(data.staff || [], data.languages || []), changesList(data.changes || []));
  } catch (err) {
    fill(node, el("p", { class: "error", role: "alert" }, "员工列表读取失败：" + err.message));
  }
}

function languageText(codes) {
  return codes.length ? codes.map((c) => languageNames[c] || c).join("、") : "—";
}

function staffTable(staff, languages) {
  return el(
    "table",
    { id: "staff-table", class: "staff" },
    el(
      "thead",
      {},
      el("tr", {}, el("th", {}, "用户名"), el("th", {}, "角色"), el("th", {}, "服务语言"),
        el("th", {}, "最近登录"), el("th", {}, "最近活动"), el("th", {}, ""))
    ),
    el("tbody", {}, staff.map((member) => staffRow(member, languages)))
  );
}

function staffRow(member, languages) {
  const status = el("span", { class: "staff-status" });
  const editable = ROUTED_ROLES.includes(member.role);
  const boxes = editable
    ? languages.map((lang) =>
        el(
          "label",
          { class: "lang-choice" },
          el("input", {
            type: "checkbox",
            name: "language",
            value: lang.code,
            checked: member.languages.includes(lang.code),
          }),
          " " + lang.name
        )
      )
    : [];
  const languagesCell = editable
    ? el("td", { class: "langs" }, el("fieldset", { class: "lang-choices" }, el("legend", { class: "sub" }, member.username + " 的服务语言"), boxes))
    : el("td", { class: "langs" }, languageText(member.languages), el("div", { class: "sub" }, "语言不影响案件分派"));
  const save = editable
    ? el("button", { type: "button", class: "staff-save", onclick: () => saveLanguages(member, row, status) }, "保存")
    : null;
  const row = el(
    "tr",
    { class: "staff-row", dataset: { username: member.username, role: member.role } },
    el("td", { class: "username" }, member.username),
    el("td", {}, ROLE_NAMES[member.role] || member.role),
    languagesCell,
    el("td", { class: "last-login" }, member.last_login_at ? formatTime(member.last_login_at) : "从未登录"),
    el(
      "td",
      { class: "last-seen" },
      member.last_seen_at ? formatTime(member.last_seen_at) : "—",
      member.online ? el("span", { class: "tag tag-online" }, "在线") : null
    ),
    el("td", {}, save, status)
  );
  return row;
}

async function saveLanguages(member, row, status) {
  const chosen = [...row.querySelectorAll("input[name=language]:checked")].map((box) => box.value);
  const button = row.querySelector("button.staff-save");
  button.disabled = true;
  fill(status, el("span", { class: "sub" }, "保存中…"));
  try {
    const data = await api("PATCH", "/api/admin/users/" + encodeURIComponent(member.username), {
      languages: chosen,
    });
    member.languages = data.user.languages;
    fill(status, el("span", { class: "saved", role: "status" }, "已保存：" + languageText(member.languages)));
    await refreshChanges();
  } catch (err) {
    // Nothing was stored: put the boxes back as the server has them, and say why.
    for (const box of row.querySelectorAll("input[name=language]")) {
      box.checked = member.languages.includes(box.value);
    }
    fill(status, el("span", { class: "error", role: "alert" }, "保存失败（" + err.status + "）：" + err.message));
  } finally {
    button.disabled = false;
  }
}

/** Re-read the recent changes after a save (the rest of the table is already current). */
async function refreshChanges() {
  const data = await api("GET", "/api/admin/staff");
  const old = $("staff-changes");
  if (old) old.replaceWith(changesList(data.changes || []));
}

function changesList(changes) {
  return el(
    "section",
    { id: "staff-changes", class: "staff-changes" },
    el("h3", {}, "最近的账号修改（审计记录）"),
    changes.length
      ? el(
          "ul",
          {},
          changes.map((c) =>
            el(
              "li",
              { class: "change", dataset: { action: c.action, username: (c.after && c.after.username) || "" } },
              formatTime(c.at) + " " + c.actor + " 把 " + ((c.after && c.after.username) || "?") + " 的服务语言从 " +
                languageText((c.before && c.before.languages) || []) + " 改为 " + languageText((c.after && c.after.languages) || [])
            )
          )
        )
      : el("p", { class: "empty" }, "还没有修改。")
  );
}
