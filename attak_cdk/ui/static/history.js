// attak ui, run history: the last runs of this page, to look at one again after an edit.
// Loaded after ui.js, whose run view it fills (addInvocations, finishRun, markUnfinished).
"use strict";

const HISTORY_SIZE = 10; // runs kept, newest first; each holds what its page showed
const history = { runs: [], recording: null };

function beginRecord(input, letters) {
  // letters: how many dead letters the run replays (its input then, not the editor's).
  history.recording = { input, letters, at: new Date(), invocations: [], end: null, failed: null, outcome: "" };
}

function recordEvent(kind, data) {
  const record = history.recording;
  if (!record) return;
  if (kind === "invocation") record.invocations.push(data);
  else if (kind === "end") record.end = data;
  else if (kind === "failed") record.failed = data.message;
}

function finishRecord(outcome) {
  // outcome: what the run state said ("done in 0.02 s", "stopped after 3.0 s").
  const record = history.recording;
  history.recording = null;
  if (!record || (!record.end && !record.failed && record.invocations.length === 0 && !outcome.startsWith("stopped"))) return;
  record.outcome = outcome;
  history.runs.unshift(record);
  history.runs.length = Math.min(history.runs.length, HISTORY_SIZE);
  showHistory(0);
}

function runLabel(record) {
  const time = record.at.toLocaleTimeString() + (record.letters ? ` · ↻ ${plural(record.letters, "dead letter")}` : "");
  if (record.failed && !record.end) return `${time} · ✗ could not run`;
  if (!record.end) return `${time} · ■ stopped after ${plural(record.invocations.length, "invocation")}`;
  const mark = record.end.ok ? "✓" : "✗";
  return `${time} · ${mark} ${plural(record.end.invocations, "invocation")}, ${plural(record.end.dead_letters.length, "dead letter")}`;
}

function showHistory(selected) {
  const select = $("history");
  select.replaceChildren(
    ...history.runs.map((record, index) => el("option", index === selected ? { value: index, selected: "" } : { value: index }, runLabel(record))),
  );
  select.hidden = history.runs.length < 2; // one run is the one on the page
}

function showPastRun(index) {
  const record = history.runs[index];
  if (!record || state.running) return;
  resetRun();
  if (!record.letters) putInput(record.input); // what this run was given, the user's text kept
  addInvocations(record.invocations, true);
  if (record.end) finishRun(record.end);
  else if (record.failed) showInputError(record.failed);
  else markUnfinished();
  const what = record.letters ? ` · replay of ${plural(record.letters, "dead letter")}` : "";
  $("run-state").textContent = (index === 0 ? record.outcome : `${record.outcome} · run of ${record.at.toLocaleTimeString()}`) + what;
}

$("history").addEventListener("change", (event) => showPastRun(Number(event.target.value)));
