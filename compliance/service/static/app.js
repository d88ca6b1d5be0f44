// The upload page: plain DOM, no framework. Every text from a report or the server is put on
// the page with textContent (never innerHTML), so cell values cannot become markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("audit-form");
  const fileInput = $("file");
  const drop = $("drop");
  const statusBox = $("status");
  const errorBox = $("error");
  const results = $("results");
  const tokenRow = $("token-row");
  const tokenInput = $("token");
  const auditButton = $("audit-button");
  const validateButton = $("validate-button");

  const MAX_FINDINGS_PER_SHEET = 500;
  const MAX_BATTERIES = 1000;
  const STATUS_TEXT = {
    pass: "Pass", fail: "Fail", insufficient_data: "Insufficient data",
    not_applicable: "Not applicable", provisional: "Provisional",
  };
  const FORMAT_LABEL = { json: "JSON", csv: "CSV", xlsx: "Excel (XLSX)", html: "HTML",
    text: "Plain text" };
  let formats = [{ name: "json", extension: "json" }];

  // ---- small helpers -----------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function badge(status) {
    return el("span", { class: `badge status-${status}`, text: STATUS_TEXT[status] || status });
  }

  function setStatus(text) { statusBox.textContent = text; }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function authHeaders() {
    const token = tokenInput.value.trim();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  async function problemText(response) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    if (body && body.detail) {
      return `${body.title || "Error"}: ${body.detail}` + (body.code ? ` (${body.code})` : "");
    }
    return `The service answered ${response.status} ${response.statusText}.`;
  }

  function needToken() {
    tokenRow.hidden = false;
    tokenInput.focus();
    showError("This service needs an access token. Enter it above and try again.");
  }

  async function api(path, options) {
    const response = await fetch(path, {
      ...options, headers: { ...authHeaders(), ...((options && options.headers) || {}) },
      credentials: "same-origin", cache: "no-store",
    });
    if (response.status === 401) {
      needToken();
      throw new Error("unauthorized");
    }
    return response;
  }

  function saveBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function filenameFrom(response, fallback) {
    const header = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : fallback;
  }

  // ---- rulesets and formats ------------------------------------------------------------

  async function loadChoices() {
    const list = $("ruleset-list");
    try {
      const response = await api("/v1/rulesets");
      if (!response.ok) throw new Error(await problemText(response));
      const rulesets = await response.json();
      list.replaceChildren();
      rulesets.forEach((rs, index) => {
        const id = `ruleset-${index}`;
        const box = el("input", { type: "checkbox", name: "rulesets", value: rs.id, id });
        box.checked = Boolean(rs.default);
        const label = el("label", { for: id }, box, " ",
          el("strong", { text: rs.id }), ` (version ${rs.version}, reviewed ${rs.last_reviewed})`
          + ` \u2014 ${rs.title}`);
        list.append(label);
      });
      const fmt = await api("/v1/formats");
      if (fmt.ok) formats = await fmt.json();
      showError("");
    } catch (err) {
      if (err.message !== "unauthorized") showError(`Rulesets could not be loaded: ${err.message}`);
    }
  }

  tokenInput.addEventListener("change", () => {
    sessionStorage.setItem("compliance-token", tokenInput.value.trim());
    loadChoices();
  });

  // ---- file choice and drop ----------------------------------------------------------

  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("dragover");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("dragover"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      fileInput.files = files;
      setStatus(`Chosen: ${files[0].name}`);
    }
  });
  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) setStatus(`Chosen: ${fileInput.files[0].name}`);
  });

  // ---- submitting --------------------------------------------------------------------

  function formData(format, structureOnly) {
    const data = new FormData();
    data.append("file", fileInput.files[0], fileInput.files[0].name);
    if (structureOnly) return data;
    for (const box of form.querySelectorAll('input[name="rulesets"]:checked')) {
      data.append("rulesets", box.value);
    }
    const asOf = $("as-of").value;
    if (asOf) data.append("as_of", asOf);
    if (format) data.append("format", format);
    return data;
  }

  function busy(on) {
    auditButton.disabled = on;
    validateButton.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  async function submit(kind) {
    showError("");
    if (!fileInput.files.length) {
      showError("Choose a workbook first.");
      fileInput.focus();
      return;
    }
    if (kind === "audit" && !form.querySelector('input[name="rulesets"]:checked')) {
      showError("Pick at least one ruleset.");
      return;
    }
    const name = fileInput.files[0].name;
    busy(true);
    setStatus(`Checking ${name}\u2026`);
    try {
      const path = kind === "audit" ? "/v1/audits" : "/v1/validations";
      const body = kind === "audit" ? formData("json", false) : formData(null, true);
      const response = await api(path, { method: "POST", body });
      if (!response.ok) {
        results.hidden = true;
        setStatus("");
        showError(await problemText(response));
        return;
      }
      const text = await response.text();
      const report = JSON.parse(text);
      if (kind === "audit") showAudit(report);
      else showValidation(report, text);
    } catch (err) {
      if (err.message !== "unauthorized") {
        setStatus("");
        showError(`The check could not be completed: ${err.message}`);
      }
    } finally {
      busy(false);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit("audit");
  });
  validateButton.addEventListener("click", () => submit("validate"));

  // ---- showing results ---------------------------------------------------------------

  function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }
  function batteryCount(n) { return `${n} ${n === 1 ? "battery" : "batteries"}`; }

  function showAudit(report) {
    const s = report.summary;
    $("verdict").replaceChildren("Overall verdict: ", badge(report.status));
    const counts = `${batteryCount(s.batteries)}: ${s.passed} pass, ${s.failed} fail, `
      + `${s.insufficient_data} insufficient data, ${s.not_applicable} not applicable`
      + (s.provisional ? `, ${s.provisional} provisional` : "")
      + `; ${plural(s.errors, "input error")}, ${plural(s.warnings, "warning")}.`;
    const rulesets = report.rulesets.map((r) => `${r.id} ${r.version}`).join(", ");
    $("summary").textContent = `${counts} Rulesets: ${rulesets}.`
      + (report.as_of ? ` As of ${report.as_of}.` : "");
    showBatteries(report.batteries);
    showDownloads();
    showFindings(report.findings);
    results.hidden = false;
    setStatus(`Audit finished: overall ${STATUS_TEXT[report.status] || report.status}. `
      + `${s.passed} of ${s.batteries} pass, ${s.failed} fail.`);
  }

  function showValidation(report, text) {
    const s = report.summary;
    $("verdict").replaceChildren("Workbook structure: ",
      badge(report.valid ? "pass" : "fail"),
      report.valid ? " usable" : " has errors");
    $("summary").textContent = `${batteryCount(s.batteries)}`
      + ` read; ${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}.`;
    $("batteries").hidden = true;
    const list = $("download-list");
    list.replaceChildren();
    const button = el("button", { type: "button", class: "secondary",
      text: "Validation report (JSON)" });
    button.addEventListener("click", () => {
      saveBlob(new Blob([text], { type: "application/json" }), "validation.json");
    });
    list.append(el("li", {}, button));
    $("downloads").hidden = false;
    showFindings(report.findings);
    results.hidden = false;
    setStatus(`Structure check finished: ${report.valid ? "usable" : "has errors"}, `
      + `${plural(s.errors, "error")}.`);
  }

  function showBatteries(batteries) {
    const body = $("battery-table").tBodies[0];
    body.replaceChildren();
    for (const battery of batteries.slice(0, MAX_BATTERIES)) {
      const why = el("ul", { class: "why" });
      for (const v of battery.verdicts) {
        why.append(el("li", {}, el("strong", { text: `${v.ruleset}: ` }), badge(v.status),
          ` ${v.summary}`));
      }
      body.append(el("tr", {},
        el("th", { scope: "row", text: battery.battery_id }),
        el("td", { text: battery.row === null ? "\u2014" : String(battery.row) }),
        el("td", {}, badge(battery.status)),
        el("td", {}, why)));
    }
    const more = $("batteries-more");
    more.hidden = batteries.length <= MAX_BATTERIES;
    more.textContent = `Showing ${MAX_BATTERIES} of ${batteries.length} batteries; `
      + "download the report for all of them.";
    $("batteries").hidden = batteries.length === 0;
  }

  function showDownloads() {
    const list = $("download-list");
    list.replaceChildren();
    for (const fmt of formats) {
      const button = el("button", { type: "button", class: "secondary",
        text: FORMAT_LABEL[fmt.name] || fmt.name.toUpperCase() });
      button.setAttribute("aria-label", `Download the report as ${FORMAT_LABEL[fmt.name]
        || fmt.name}`);
      button.addEventListener("click", () => download(fmt));
      list.append(el("li", {}, button));
    }
    $("downloads").hidden = false;
  }

  async function download(fmt) {
    showError("");
    setStatus(`Preparing the ${FORMAT_LABEL[fmt.name] || fmt.name} report\u2026`);
    try {
      const response = await api("/v1/audits", { method: "POST", body: formData(fmt.name) });
      if (!response.ok) {
        showError(await problemText(response));
        setStatus("");
        return;
      }
      saveBlob(await response.blob(), filenameFrom(response, `audit.${fmt.extension}`));
      setStatus(`Downloaded the ${FORMAT_LABEL[fmt.name] || fmt.name} report.`);
    } catch (err) {
      if (err.message !== "unauthorized") showError(`Download failed: ${err.message}`);
    }
  }

  function showFindings(findings) {
    const box = $("findings");
    box.replaceChildren();
    $("findings-none").hidden = findings.length > 0;
    const groups = new Map();
    for (const f of findings) {
      const sheet = f.sheet || "Workbook";
      if (!groups.has(sheet)) groups.set(sheet, []);
      groups.get(sheet).push(f);
    }
    for (const [sheet, items] of groups) {
      items.sort((a, b) => (a.row || 0) - (b.row || 0));
      const errors = items.filter((f) => f.severity === "error").length;
      const details = el("details", { open: "" },
        el("summary", { text: `${sheet}: ${plural(items.length, "finding")}`
          + (errors ? ` (${plural(errors, "error")})` : "") }));
      const table = el("table", {},
        el("caption", { class: "visually-hidden", text: `Findings in ${sheet}` }),
        el("thead", {}, el("tr", {},
          ...["Cell", "Column", "Severity", "Code", "Message", "Value"].map(
            (h) => el("th", { scope: "col", text: h })))));
      const tbody = el("tbody");
      for (const f of items.slice(0, MAX_FINDINGS_PER_SHEET)) {
        const where = f.cell || (f.row ? `row ${f.row}` : "\u2014");
        tbody.append(el("tr", {},
          el("td", { class: "cell", text: where }),
          el("td", { text: f.column || "" }),
          el("td", { class: `severity-${f.severity}`, text: f.severity }),
          el("td", { text: f.code }),
          el("td", { text: f.message }),
          el("td", { text: f.value === null || f.value === undefined ? "" : f.value })));
      }
      table.append(tbody);
      details.append(el("div", { class: "scroll" }, table));
      if (items.length > MAX_FINDINGS_PER_SHEET) {
        details.append(el("p", { class: "hint", text: `Showing ${MAX_FINDINGS_PER_SHEET} of `
          + `${items.length}; download the report for every finding.` }));
      }
      box.append(details);
    }
  }

  // ---- template link (needs the token header when the service is protected) ------------

  $("template-link").addEventListener("click", async (event) => {
    if (tokenRow.hidden) return; // the plain link works when no token is needed
    event.preventDefault();
    try {
      const response = await api("/v1/template");
      if (!response.ok) { showError(await problemText(response)); return; }
      saveBlob(await response.blob(), "bom-template.xlsx");
    } catch (err) {
      if (err.message !== "unauthorized") showError(`Download failed: ${err.message}`);
    }
  });

  tokenInput.value = sessionStorage.getItem("compliance-token") || "";
  if (tokenInput.value) tokenRow.hidden = false;
  loadChoices();
})();
