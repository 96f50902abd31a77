// attak ui, Live tab: the deployed topology's CloudWatch metrics on the graph and its logs.
// Loaded after ui.js, whose helpers ($, el, svg, state, compact, plural) it uses.
"use strict";

const METRICS_EVERY_MS = 15000; // CloudWatch's points are a minute apart: more often shows nothing new
const MAX_LOG_LINES = 5000; // lines kept on the page; the oldest go first

const live = {
  active: false,
  status: null, // /api/live
  metrics: null, // /api/live/metrics: {processors: {name: {...}}}
  processor: null, // the processor whose logs are shown, or null for all
  trace: "",
  next: null, // epoch ms to ask the next log lines from
  lineIds: new Set(),
  timers: [],
  sending: false,
  generation: 0, // bumped on every reset: answers to older requests are dropped
};

function setMode(mode) {
  state.mode = mode;
  const isLive = mode === "live";
  $("tab-simulate").classList.toggle("active", !isLive);
  $("tab-live").classList.toggle("active", isLive);
  $("live-side").hidden = !isLive;
  $("simulate-side").hidden = isLive;
  $("logs-pane").hidden = !isLive;
  $("legend-filter").textContent = isLive ? "logs" : "invocations";
  $("input-error").hidden = true;
  $("sent").hidden = true;
  $("history").hidden = isLive || history.runs.length < 2;
  $("run-state").textContent = "";
  if (isLive) {
    closeDetail();
    showSendButton();
    startLive();
  } else {
    stopLive();
    showRunning(false);
    for (const node of state.nodes.values()) {
      node.group.classList.remove("alarming");
      node.group.querySelector("title").textContent = tooltip(node.data);
    }
    applyCounts(); // the last run's counters come back on the nodes
  }
}

function showSendButton() {
  const button = $("run");
  const deployed = Boolean(live.status && live.status.deployed);
  button.textContent = "Send ▶";
  button.classList.remove("stop");
  button.disabled = !deployed || live.sending || Boolean(state.running);
  button.title = deployed
    ? "Send this input to the deployed topology, as attak trigger does (Ctrl+Enter)"
    : "Nothing deployed to send to (see Deployment)";
}

// --- polling -----------------------------------------------------------------------------

function stopLive() {
  live.active = false;
  live.generation += 1;
  for (const timer of live.timers) clearTimeout(timer);
  live.timers = [];
}

async function startLive() {
  stopLive();
  live.active = true;
  const generation = live.generation;
  $("live-status").textContent = "looking for the deployment…";
  $("live-error").hidden = true;
  const status = await getJSON("/api/live");
  if (generation !== live.generation) return;
  live.status = status;
  showStatus(status);
  showSendButton();
  if (!status.deployed) {
    showLiveNodes();
    return;
  }
  resetLogs();
  pollMetrics(generation);
  pollLogs(generation);
}

function later(generation, ms, work) {
  if (generation === live.generation) live.timers.push(setTimeout(() => work(generation), ms));
}

async function pollMetrics(generation) {
  const minutes = $("live-window").value;
  const answer = await getJSON(`/api/live/metrics?minutes=${minutes}`);
  if (generation !== live.generation) return;
  if (answer.error) showLiveError(answer.error);
  else {
    $("live-error").hidden = true;
    live.metrics = answer;
    showMetrics();
    $("live-updated").textContent = "updated " + new Date().toLocaleTimeString();
  }
  later(generation, METRICS_EVERY_MS, pollMetrics);
}

async function pollLogs(generation) {
  const query = new URLSearchParams();
  if (live.next !== null) query.set("after", live.next);
  else query.set("after", Date.now() - Number($("live-window").value) * 60000);
  if (live.trace) query.set("trace", live.trace);
  if (live.processor) query.set("processor", live.processor);
  const answer = await getJSON("/api/live/logs?" + query);
  if (generation !== live.generation) return;
  if (answer.error) showLiveError(answer.error);
  else {
    live.next = answer.next;
    addLogLines(answer.lines, answer.cut);
  }
  // Each poll reads every selected log group once; CloudWatch Logs allows about five
  // reads a second, so a big topology is read less often.
  const groups = live.processor ? 1 : Object.keys(live.status.processors).length;
  if ($("log-follow").checked) later(generation, Math.max(3000, (groups / 4) * 1000), pollLogs);
}

async function getJSON(url) {
  try {
    const response = await fetch(url, { cache: "no-store" });
    const body = await response.json();
    if (!response.ok && !body.error) body.error = response.statusText;
    return body;
  } catch (error) {
    return { error: "cannot reach attak ui: " + error.message, deployed: false, message: "cannot reach attak ui: " + error.message };
  }
}

function showLiveError(message) {
  const box = $("live-error");
  box.textContent = message;
  box.hidden = false;
}

// --- sending the input to the deployment -------------------------------------------------

async function sendLive() {
  if (live.sending || !live.status || !live.status.deployed) return;
  live.sending = true;
  showSendButton();
  $("input-error").hidden = true;
  $("run-state").textContent = "sending…";
  try {
    const response = await fetch("/api/live/trigger", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ input: editorInput() }),
    });
    const answer = await response.json();
    if (!response.ok) {
      showInputError(answer.error || response.statusText);
      $("run-state").textContent = "";
    } else showSent(answer);
  } catch (error) {
    showInputError("cannot reach attak ui: " + error.message);
    $("run-state").textContent = "";
  } finally {
    live.sending = false;
    showSendButton();
  }
}

function showSent(answer) {
  const list = $("sent");
  list.replaceChildren();
  list.hidden = false;
  const sent = answer.events.filter((event) => event.sent && !event.error);
  $("run-state").textContent = `sent ${sent.length} of ${plural(answer.events.length, "event")} to ${answer.stacks.join(", ")}`;
  for (const event of answer.events) {
    const how = event.via === "stream" ? "into its ingest stream" : "invoked";
    list.append(
      el(
        "li",
        { class: event.sent && !event.error ? "" : "failed", "data-trace": event.trace },
        el("button", { class: "trace-link", title: "Follow this input in the logs", onclick: () => setTrace(event.trace) }, event.trace),
        ` ${event.processor} ← ${preview(event.data, 30)} · ${how}`,
        event.error ? el("div", { class: "sev-error" }, event.error) : null,
      ),
    );
  }
  // One input: follow it straight away, as `attak trigger --follow` would.
  if (sent.length === 1 && answer.events.length === 1) setTrace(sent[0].trace);
}

// --- the deployment and its metrics --------------------------------------------------------

function showStatus(status) {
  const box = $("live-status");
  box.replaceChildren();
  const differences = $("live-differences");
  differences.replaceChildren();
  if (!status.deployed) {
    box.className = "not-deployed";
    box.append(el("div", { class: "sev-warning" }, "No live view"), el("div", { class: "muted" }, status.message));
    $("live-metrics").querySelector("tbody").replaceChildren();
    $("no-logs").textContent = "Nothing deployed to read logs from.";
    $("no-logs").hidden = false;
    return;
  }
  box.className = "";
  box.append(
    el("strong", {}, status.stacks.join(", ")),
    el("span", { class: "muted" }, ` · ${status.where} · ${plural(Object.keys(status.processors).length, "processor")}`),
  );
  for (const text of status.differences) differences.append(el("li", { class: "sev-warning" }, text + " (attak deploy updates it)"));
}

function ageText(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7200000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

function sparkline(points) {
  // The invocations over the window, as a tiny line: a stall or a burst shows at a glance.
  const width = 40;
  const height = 16;
  const shape = svg("svg", { width, height, class: "spark", "aria-hidden": "true" });
  if (!points || points.length < 2) return shape;
  const top = Math.max(1, ...points.map((p) => p[1]));
  const first = points[0][0];
  const span = Math.max(1, points[points.length - 1][0] - first);
  const path = points
    .map((p, i) => `${i ? "L" : "M"}${(((p[0] - first) / span) * width).toFixed(1)},${(height - 1 - (p[1] / top) * (height - 2)).toFixed(1)}`)
    .join(" ");
  shape.append(svg("path", { d: path }));
  return shape;
}

function showMetrics() {
  const body = $("live-metrics").querySelector("tbody");
  body.replaceChildren();
  const rows = live.metrics ? live.metrics.processors : {};
  for (const [name, m] of Object.entries(rows)) {
    const cell = (text, bad) => el("td", bad ? { class: "bad" } : {}, text);
    body.append(
      el(
        "tr",
        {
          "data-processor": name,
          class: live.processor === name ? "selected" : "",
          onclick: () => selectLiveProcessor(name),
        },
        alarmCell(name, m.alarms || []),
        el("td", {}, sparkline(m.series && m.series.invocations)),
        cell(compact(m.invocations)),
        cell(compact(m.errors), m.errors > 0),
        cell(compact(m.throttles), m.throttles > 0),
        cell(m.duration_ms === null ? "–" : `${m.duration_ms < 10 ? m.duration_ms.toFixed(1) : Math.round(m.duration_ms)} ms`),
        cell(ageText(m.iterator_age_ms), m.iterator_age_ms !== null && m.iterator_age_ms >= 60000),
        cell(m.dead_letters === null ? "–" : compact(m.dead_letters), m.dead_letters > 0),
      ),
    );
  }
  showLiveNodes();
}

function firing(alarms) {
  return alarms.filter((alarm) => alarm.state === "ALARM");
}

function alarmText(alarms) {
  return alarms.map((alarm) => `${alarm.state} ${alarm.metric}: ${alarm.reason || alarm.name}`).join("\n");
}

function alarmCell(name, alarms) {
  // A firing alarm marks the processor's name: the first thing to look at.
  const bad = firing(alarms);
  const title = `${name}\n` + (alarms.length ? alarmText(alarms) : "no alarms found for it");
  return el("td", { class: bad.length ? "proc alarming" : "proc", title }, bad.length ? `⚠ ${name}` : name);
}

function showLiveNodes() {
  const rows = (live.metrics && live.metrics.processors) || {};
  for (const [id, node] of state.nodes) {
    if (node.data.kind !== "processor") continue;
    const m = rows[id];
    node.counts.replaceChildren();
    const alarms = m ? firing(m.alarms || []) : [];
    node.group.classList.toggle("alarming", alarms.length > 0);
    node.group.querySelector("title").textContent =
      tooltip(node.data) + (alarms.length ? "\n" + alarmText(alarms) : "");
    node.group.classList.toggle("failed", Boolean(m && (m.errors > 0 || m.dead_letters > 0)));
    if (!m) {
      node.counts.textContent = live.status && live.status.deployed ? "not deployed" : "";
      continue;
    }
    // What does not fit is in the table beside the graph: a calm iterator age first.
    const late = m.iterator_age_ms !== null && m.iterator_age_ms >= 60000;
    showCounts(node, [
      [`${compact(m.invocations)} inv`, false, 2],
      [`${compact(m.errors)} err`, m.errors > 0, m.errors > 0 ? 3 : 1],
      m.iterator_age_ms === null ? null : [`age ${ageText(m.iterator_age_ms)}`, late, late ? 3 : 0],
      m.dead_letters ? [`${compact(m.dead_letters)} dlq`, true, 4] : null,
    ]);
  }
}

// --- logs ----------------------------------------------------------------------------------

function resetLogs() {
  live.next = null;
  live.lineIds.clear();
  $("log-lines").replaceChildren();
  $("log-count").textContent = "";
  $("no-logs").hidden = false;
  $("no-logs").textContent = live.trace
    ? `Looking for trace ${live.trace}…`
    : "Waiting for log lines… (attak trigger sends the input file to the deployed topology)";
  const chip = $("clear-log-processor");
  chip.hidden = !live.processor;
  chip.textContent = live.processor ? `only ${live.processor} ✕` : "";
  for (const [id, node] of state.nodes) node.group.classList.toggle("filtered", id === live.processor);
  for (const row of $("live-metrics").querySelectorAll("tbody tr")) {
    row.classList.toggle("selected", row.dataset.processor === live.processor);
  }
}

function restartLogs() {
  // A new filter: read the window again with it, and the metrics at once.
  if (!live.active || !live.status || !live.status.deployed) return;
  stopLive();
  live.active = true;
  resetLogs();
  pollLogs(live.generation);
  pollMetrics(live.generation);
}

function selectLiveProcessor(name) {
  live.processor = live.processor === name ? null : name;
  restartLogs();
}

function setTrace(trace) {
  live.trace = trace.trim();
  $("trace-filter").value = live.trace;
  restartLogs();
}

function addLogLines(lines, cut) {
  const list = $("log-lines");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  let added = 0;
  for (const line of lines) {
    if (live.lineIds.has(line.id)) continue;
    live.lineIds.add(line.id);
    list.append(logRow(line));
    added += 1;
  }
  while (list.childElementCount > MAX_LOG_LINES) {
    live.lineIds.delete(list.firstElementChild.dataset.id);
    list.firstElementChild.remove();
  }
  if (cut) list.append(el("li", { class: "muted" }, `… ${cut} older lines not shown: narrow the window or filter by processor or trace`));
  $("log-count").textContent = list.childElementCount ? `(${list.childElementCount})` : "";
  $("no-logs").hidden = list.childElementCount > 0;
  if (added && atBottom) list.scrollTop = list.scrollHeight;
}

function logRow(line) {
  const time = new Date(line.timestamp).toLocaleTimeString();
  const record = line.record;
  const row = el("li", { "data-id": line.id, "data-processor": line.processor });
  row.append(el("span", { class: "time" }, time), el("span", { class: "proc" }, line.processor));
  const summary = line.summary;
  if (summary) {
    // One line per invocation: what the batch held and what became of it.
    const failed = summary.errors > 0 || Boolean(summary.error);
    row.classList.add(failed ? "failed" : "summary");
    const emits = Object.entries(summary.emits || {}).map(([topic, n]) => `${n} '${topic}'`).join(", ");
    const parts = [`▤ ${plural(summary.records, "record")}, ${plural(summary.events, "event")}`];
    if (summary.errors) parts.push(plural(summary.errors, "error"));
    if (summary.dead_letters) parts.push(plural(summary.dead_letters, "dead letter"));
    row.append(
      el(
        "span",
        { class: "message" },
        `${parts.join(", ")}${emits ? ` → ${emits}` : ""} · ${summary.ms} ms`,
        summary.error ? el("span", { class: "sev-error" }, "  " + summary.error) : null,
      ),
    );
  } else if (record) {
    const failed = record.outcome === "error";
    row.classList.add(failed ? "failed" : "record");
    const trace = record.trace
      ? el("button", { class: "trace-link", title: "Show only this input's path", onclick: () => setTrace(record.trace) }, record.trace)
      : el("span", { class: "muted" }, "no trace");
    const topic = record.topic ? ` topic '${record.topic}'` : "";
    const emits = record.emits && record.emits.length ? ` → ${record.emits.join(", ")}` : "";
    row.append(
      el(
        "span",
        { class: "message" },
        `${failed ? "✗" : "✓"} record${topic}${emits} · ${record.ms} ms · trace `,
        trace,
        failed && record.error ? el("span", { class: "sev-error" }, "  " + record.error) : null,
      ),
    );
  } else {
    // Lambda's own lines, in the text log format or the JSON one ({"type": "platform.start"}).
    if (/^(START|END|REPORT) RequestId:|^INIT_START|^\{.*"type": ?"platform\./.test(line.message)) row.classList.add("lambda");
    if (/Traceback|\bError\b|\[ERROR\]|"level": ?"(ERROR|FATAL)"|Task timed out/.test(line.message)) row.classList.add("failed");
    row.append(el("span", { class: "message" }, line.message));
  }
  return row;
}

// --- start ---------------------------------------------------------------------------------

$("tab-simulate").addEventListener("click", () => setMode("simulate"));
$("tab-live").addEventListener("click", () => setMode("live"));
$("live-refresh").addEventListener("click", () => startLive());
$("live-window").addEventListener("change", () => startLive());
$("clear-log-processor").addEventListener("click", () => selectLiveProcessor(live.processor));
$("trace-filter").addEventListener("change", (event) => setTrace(event.target.value));
$("log-follow").addEventListener("change", () => {
  // Following again goes on from the newest line shown.
  if ($("log-follow").checked && live.active && live.status && live.status.deployed) pollLogs(live.generation);
});
