// attak ui: draws the topology the server placed, runs simulations and shows their traces.
// Plain browser JavaScript, no libraries: the page must work with no network.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DOTS = 40; // records drawn travelling at once; more would only blur together
const DOT_MS = 650;
// Text on the graph is never drawn smaller than this on screen: zoomed out further, the
// text keeps this size and says less (a node its name only; its counts are in its tooltip
// and in the panel a click opens).
const MIN_TEXT_PX = 11;
const NAME_PX = 13; // a node's name at 1:1 (ui.css's sizes are the same)
const TEXT_PX = 11; // its counts, and the streams' labels
// An input larger than this is held by the page, not shown in the editor: a browser's text
// area takes seconds to draw 100,000 lines, and seconds again at every change.
const LARGE_INPUT = 256 * 1024;

const state = {
  view: null, // the topology document from /api/topology
  nodes: new Map(), // id -> {data, group, counts}
  edges: new Map(), // edge id -> {data, group, path, label}
  edgeByStream: new Map(), // stream name -> edge id
  invocations: new Map(), // id -> invocation
  rows: new Map(), // id -> <li>
  children: new Map(), // id -> [child ids]
  laterAttempt: new Map(), // id -> the invocation that tried the same record next
  byTrace: new Map(), // trace -> [ids]
  counts: new Map(), // processor -> {invocations, errors, emits, seconds, dead, failed, retries}
  carried: new Map(), // edge id -> records
  selected: null,
  selectedRow: null, // the <li> marked selected
  tracedRows: [], // the <li>s marked in-trace
  filter: null, // the processor whose invocations the list keeps, or null
  visible: 0, // rows the filters let through
  dots: 0,
  running: null, // the AbortController of the run in progress: aborting it cancels the run
  mode: "simulate", // or "live" (live.js)
  camera: { x: 0, y: 0, w: 1, h: 1 },
  cameraMoved: false, // the user zoomed or panned: Reload, Replay and resizes keep the view
  graphBox: null, // the graph's size on screen when the camera was last set
  textScale: 0, // screen pixels per graph unit the text was last sized for
  placedInput: null, // the text the page itself last put in the input editor
  heldInput: null, // {name, text}: a large input, run as the editor's text would be
  savedInput: null, // what the user had typed there before the page replaced it
};

// Invocations arrive faster than the screen refreshes (thousands a second): they are
// queued and drawn once a frame, in one batch, so the page does its layout once a frame
// instead of once an invocation.
const pending = { invocations: [], frame: 0 };
// Edge labels are measured (getBBox forces a layout) once a frame, all together.
const labels = { edges: new Set(), frame: 0 };

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function preview(data, limit = 60) {
  const text = data === undefined ? "" : JSON.stringify(data);
  return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
}

function clipText(text, limit) {
  return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
}

function pretty(data) {
  return JSON.stringify(data, null, 2);
}

function ms(seconds) {
  const value = seconds * 1000;
  return value < 10 ? value.toFixed(2) + " ms" : value.toFixed(0) + " ms";
}

function compact(count) {
  // Counters must fit on a node: 12,345 invocations read as 12.3k.
  if (count < 10000) return String(count);
  if (count < 1e6) return (count / 1000).toFixed(count < 1e5 ? 1 : 0) + "k";
  return (count / 1e6).toFixed(1) + "M";
}

function plural(count, word, many) {
  return `${count} ${count === 1 ? word : many || `${word}s`}`;
}

// --- loading the topology ---------------------------------------------------------------

async function loadTopology(keepInput) {
  let view;
  try {
    const response = await fetch("/api/topology", { cache: "no-store" });
    view = await response.json();
    if (!response.ok) throw new Error(view.error || response.statusText);
  } catch (error) {
    $("status").textContent = "cannot reach attak ui: " + error.message;
    $("status").className = "status error";
    return;
  }
  state.view = view;
  $("topology-name").textContent = view.topology ?? "(unreadable topology)";
  $("topology-file").textContent = view.file;
  document.title = `attak ui · ${view.topology ?? view.file}`;
  const status = $("status");
  if (view.errors) {
    status.textContent = `✗ ${plural(view.errors, "error")}` + (view.warnings ? ` · ${plural(view.warnings, "warning")}` : "");
    status.className = "status error";
  } else if (view.warnings) {
    status.textContent = `✓ valid · ${plural(view.warnings, "warning")}`;
    status.className = "status warning";
  } else {
    status.textContent = "✓ valid";
    status.className = "status ok";
  }
  if (!keepInput) {
    setInput(view.input, "input.json");
    state.placedInput = view.input;
  }
  if (!state.running) {
    showRunning(false);
    if (!view.ok) $("run").title = "Fix the topology's errors first (listed above the graph)";
  }
  drawGraph(view);
  showScheduleButtons(view);
  showIssues(view); // after drawing: each issue links to the node it is shown on
  // A view the user chose survives a Reload, of the topology or of the page.
  if (!state.cameraMoved && !restoreCamera()) fit();
  applyCounts();
  if (state.mode === "live") showLiveNodes();
}

function showIssues(view) {
  const pane = $("issues-pane");
  const list = $("issues");
  list.replaceChildren();
  pane.hidden = view.issues.length === 0;
  pane.classList.toggle("warnings-only", view.errors === 0);
  const parts = [];
  if (view.errors) parts.push(plural(view.errors, "error"));
  if (view.warnings) parts.push(plural(view.warnings, "warning"));
  $("issues-title").textContent =
    `${parts.join(" and ")} in ${view.file}` + (view.errors ? ": fix them to run" : "");
  for (const issue of view.issues) {
    const target = issueTarget(issue);
    list.append(
      el(
        "li",
        { class: "sev-" + issue.severity, onclick: () => target && focusOn(target) },
        el("span", { class: "where" }, issue.path || issue.file || "topology"),
        issue.message,
      ),
    );
  }
}

function issueTarget(issue) {
  const same = (other) => other.path === issue.path && other.message === issue.message;
  for (const [id, node] of state.nodes) if (node.data.issues.some(same)) return id;
  for (const edge of state.edges.values()) {
    if (edge.data.issues.some(same)) return edge.data.target;
  }
  return null;
}

// --- drawing the graph -------------------------------------------------------------------

function drawGraph(view) {
  const root = $("graph");
  root.replaceChildren();
  state.nodes.clear();
  state.edges.clear();
  state.edgeByStream.clear();
  root.append(
    svg(
      "defs",
      {},
      svg(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: "9",
          refY: "5",
          markerWidth: "9",
          markerHeight: "9",
          markerUnits: "userSpaceOnUse",
          orient: "auto-start-reverse",
        },
        svg("path", { d: "M0,0 L10,5 L0,10 z" }),
      ),
    ),
  );
  const scene = svg("g", { id: "scene" });
  const edgeLayer = svg("g");
  const nodeLayer = svg("g");
  const dotLayer = svg("g", { id: "dots" });
  scene.append(edgeLayer, nodeLayer, dotLayer);
  root.append(scene);
  // Nodes first, so each issue lookup below finds them; drawn above the edges.
  for (const node of view.nodes) nodeLayer.append(drawNode(node));
  for (const node of state.nodes.values()) labelNode(node); // measured in the page's font
  for (const edge of view.edges) edgeLayer.append(drawEdge(edge));
  if (view.nodes.length === 0) {
    nodeLayer.append(
      svg("text", { x: 40, y: 60, class: "muted", fill: "#8b97a8" }, "Nothing to draw: the topology file could not be read (see above)."),
    );
  }
}

function severityClass(issues) {
  if (issues.some((i) => i.severity === "error")) return "has-error";
  if (issues.length) return "has-warning";
  return "";
}

function drawNode(node) {
  const classes = ["node", node.kind, severityClass(node.issues)];
  if (node.entry) classes.push("entry");
  const group = svg("g", {
    class: classes.filter(Boolean).join(" "),
    transform: `translate(${node.x},${node.y})`,
    "data-node": node.id,
  });
  const radius = node.kind === "sink" ? node.height / 2 : 8;
  group.append(svg("rect", { width: node.width, height: node.height, rx: radius, ry: radius }));
  const name = svg("text", { class: "name", x: 14, y: 21 });
  group.append(name);
  const counts = svg("text", { class: "counts", x: 14, y: 39 });
  if (node.kind === "sink") counts.textContent = "⇥ sink";
  else if (node.kind === "missing") counts.textContent = "not defined";
  else if (node.kind === "external") counts.textContent = `existing ${node.external} stream`;
  else counts.textContent = node.entry ? (node.input === "stream" ? "entry · ingest stream" : "entry") : "";
  group.append(counts);
  if (node.issues.length) {
    const error = node.issues.some((i) => i.severity === "error");
    group.append(
      svg(
        "g",
        { class: "badge", transform: `translate(${node.width - 2},2)` },
        // Scaled with the text (ui.css), so its number stays readable zoomed out.
        svg(
          "g",
          { class: "mark" },
          svg("circle", { r: 10, fill: error ? "#ff6b6b" : "#f3c14f" }),
          svg("text", { y: 4 }, String(node.issues.length)),
        ),
      ),
    );
  }
  const title = svg("title");
  title.textContent = tooltip(node);
  group.append(title);
  group.addEventListener("click", (event) => {
    event.stopPropagation();
    selectNode(node.id);
  });
  const entry = { data: node, group, name, counts, rect: group.firstChild, title };
  state.nodes.set(node.id, entry);
  return group;
}

function labelNode(node) {
  // The name, cut to the node's width at the size it is drawn now; when the counts are
  // hidden (zoomed out), alone and centred in the node.
  const { data, name } = node;
  const size = textSize(NAME_PX);
  const simplified = textSize(TEXT_PX) > TEXT_PX;
  const inset = simplified ? 8 : 14;
  name.setAttribute("x", inset);
  name.setAttribute("y", simplified ? data.height / 2 + size * 0.36 : 21);
  name.textContent = fitText(data.label, data.width - 2 * inset, size, name);
}

const measure = { context: null, fonts: new Map() }; // element class -> its font, SIZE left open

function textWidth(text, size, element) {
  // The width of ``text`` at ``size`` in the element's own font, measured on a canvas
  // (no layout of the page).
  if (!measure.context) measure.context = document.createElement("canvas").getContext("2d");
  const kind = element.getAttribute("class");
  if (!measure.fonts.has(kind)) {
    const style = getComputedStyle(element);
    measure.fonts.set(kind, `${style.fontWeight} SIZEpx ${style.fontFamily}`);
  }
  measure.context.font = measure.fonts.get(kind).replace("SIZE", size);
  return measure.context.measureText(text).width;
}

function fitText(text, width, size, element) {
  // ``text`` cut with "…" to fit ``width`` at ``size``: a name never runs past its node.
  if (textWidth(text, size, element) <= width) return text;
  let fits = text.length - 1;
  while (fits > 1 && textWidth(text.slice(0, fits) + "…", size, element) > width) fits -= 1;
  return text.slice(0, fits) + "…";
}

function textSize(px) {
  // The size, in graph units, that text of ``px`` pixels is drawn at: its own at 1:1 and
  // closer, MIN_TEXT_PX on screen when zoomed out.
  const scale = state.textScale || 1;
  return Math.max(px, MIN_TEXT_PX / scale);
}

function sizeText() {
  // Called whenever the camera moves: the text is sized again once the scale changes.
  const box = state.graphBox;
  if (!box) return;
  const scale = box.width / state.camera.w;
  if (Math.abs(scale - state.textScale) < 0.002 * scale) return;
  state.textScale = scale;
  const root = $("graph");
  root.style.setProperty("--name-size", `${textSize(NAME_PX)}px`);
  root.style.setProperty("--text-size", `${textSize(TEXT_PX)}px`);
  root.style.setProperty("--mark-scale", textSize(TEXT_PX) / TEXT_PX);
  root.classList.toggle("simplified", textSize(TEXT_PX) > TEXT_PX);
  for (const node of state.nodes.values()) labelNode(node);
  for (const edge of state.edges.values()) placeLabel(edge);
}

function tooltip(node) {
  const lines = [node.kind === "sink" ? `sink: topic '${node.topic}' of ${node.processor}` : node.label];
  if (node.handler) lines.push(`handler ${node.handler}`);
  for (const issue of node.issues) lines.push(`${issue.severity}: ${issue.message}`);
  return lines.join("\n");
}

function clip(text, width, size = NAME_PX) {
  // 0.585 em: the mean width of a character of the page's sans-serif font.
  const fits = Math.max(4, Math.floor(width / (size * 0.585)));
  return text.length > fits ? text.slice(0, fits - 1) + "…" : text;
}

function edgePath(points, back) {
  if (points.length < 2) return "";
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    // Horizontal tangents: lines leave and enter nodes level, and bend between ranks.
    const bend = Math.max(30, Math.abs(x1 - x0) / 2) * (back ? -1 : 1);
    const c0 = i === 1 ? x0 + bend : x0 + (x1 - x0) / 2;
    const c1 = i === points.length - 1 ? x1 - bend : x0 + (x1 - x0) / 2;
    d += ` C${c0},${y0} ${c1},${y1} ${x1},${y1}`;
  }
  return d;
}

function loopPath(points) {
  const [a, b, c, d] = points;
  return `M${a[0]},${a[1]} C${b[0]},${b[1] - 10} ${c[0]},${c[1] - 10} ${d[0]},${d[1]}`;
}

function drawEdge(edge) {
  const classes = ["edge", edge.kind, severityClass(edge.issues)];
  if (edge.back) classes.push("back");
  // Every stream on a loop is dashed, a processor's stream to itself too (as attak graph
  // draws them); the one closing the loop is also drawn back, right to left.
  if (edge.loop || edge.on_loop) classes.push("loop");
  const group = svg("g", { class: classes.filter(Boolean).join(" "), "data-edge": edge.id });
  const d = edge.loop ? loopPath(edge.points) : edgePath(edge.points, edge.back);
  const path = svg("path", { d, "marker-end": "url(#arrow)" });
  group.append(path);
  // A stream with no topic carries every topic: it needs no label until it carries records.
  const topic = edge.kind === "sink" ? "" : (edge.topic ?? "");
  let label = null;
  if (edge.kind === "stream") {
    label = svg("g", { class: "label" + (edge.issues.some((i) => i.severity === "error") ? " bad" : "") });
    const text = svg("text", { "text-anchor": "middle", "dominant-baseline": "central" });
    text.append(svg("tspan", {}, ""), svg("tspan", { class: "count" }, ""));
    text.firstChild.textContent = (edge.issues.length ? "⚠ " : "") + clip(topic, 150, TEXT_PX);
    label.append(svg("rect", { rx: 4, ry: 4 }), text);
    group.append(label);
  }
  const title = svg("title");
  title.textContent = [edge.stream ?? `sink: ${edge.topic}`, ...edge.issues.map((i) => `${i.severity}: ${i.message}`)].join("\n");
  group.append(title);
  const entry = { data: edge, group, path, label, middle: null, length: null, bbox: null };
  if (label) Object.assign(entry, { text: label.lastChild, box: label.firstChild, count: label.lastChild.lastChild });
  state.edges.set(edge.id, entry);
  if (edge.stream) state.edgeByStream.set(edge.stream, edge.id);
  placeLabel(entry);
  return group;
}

function placeLabel(edge) {
  if (!edge || !edge.label) return;
  labels.edges.add(edge);
  if (!labels.frame) labels.frame = requestAnimationFrame(placeLabels);
}

function pathLength(edge) {
  // The path's geometry never changes once drawn: measured once.
  if (edge.length === null) edge.length = edge.path.getTotalLength();
  return edge.length;
}

function placeLabels() {
  labels.frame = 0;
  const edges = [...labels.edges].filter((edge) => edge.path.isConnected);
  labels.edges.clear();
  // Writes first, then every read, then the writes that depend on them: one layout in all.
  for (const edge of edges) {
    if (!edge.middle) edge.middle = edge.path.getPointAtLength(pathLength(edge) / 2);
    edge.shown = Boolean(edge.text.textContent.trim());
    edge.label.style.display = edge.shown ? "" : "none";
    edge.text.setAttribute("x", edge.middle.x);
    edge.text.setAttribute("y", edge.middle.y);
  }
  const boxes = edges.map((edge) => edge.text.getBBox());
  edges.forEach((edge, i) => {
    edge.bbox = boxes[i]; // at the middle of its path
  });
  separateLabels();
}

function separateLabels() {
  // Labels sit at the middle of their stream; where two would overlap (streams of
  // different topics between the same processors run side by side), the lower one moves
  // down until it clears the other. Every label is placed again, as moving one may free
  // or take another's place.
  const pad = { x: 5 * (textSize(TEXT_PX) / TEXT_PX), y: 2 * (textSize(TEXT_PX) / TEXT_PX) };
  const shown = [];
  for (const edge of state.edges.values()) {
    if (edge.label && edge.bbox && edge.shown && edge.path.isConnected) shown.push(edge);
  }
  shown.sort((a, b) => a.bbox.y - b.bbox.y || a.bbox.x - b.bbox.x);
  const placed = [];
  for (const edge of shown) {
    const b = edge.bbox;
    const box = { left: b.x - pad.x, right: b.x + b.width + pad.x, top: b.y - pad.y, bottom: b.y + b.height + pad.y };
    for (let moved = true; moved; ) {
      moved = false;
      for (const other of placed) {
        const apart = box.right <= other.left || other.right <= box.left || box.bottom <= other.top || other.bottom <= box.top;
        if (apart) continue;
        const down = other.bottom + 1 - box.top;
        box.top += down;
        box.bottom += down;
        moved = true;
      }
    }
    placed.push(box);
    const shift = box.top - (b.y - pad.y);
    edge.text.setAttribute("y", edge.middle.y + shift);
    edge.box.setAttribute("x", box.left);
    edge.box.setAttribute("y", box.top);
    edge.box.setAttribute("width", box.right - box.left);
    edge.box.setAttribute("height", box.bottom - box.top);
  }
}

// --- pan and zoom ------------------------------------------------------------------------

function setCamera(camera, moved = true) {
  state.camera = camera;
  state.cameraMoved = moved;
  $("graph").setAttribute("viewBox", `${camera.x} ${camera.y} ${camera.w} ${camera.h}`);
  sizeText();
  saveCamera();
}

// A view the user chose is kept for the tab's life, so reloading the page (not only
// the topology) keeps it too; Fit forgets it.
function cameraKey() {
  return state.view ? `attak-ui-camera:${state.view.file}` : null;
}

function saveCamera() {
  const key = cameraKey();
  const box = state.graphBox;
  if (!key || !box) return;
  try {
    if (!state.cameraMoved) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify({ x: state.camera.x, y: state.camera.y, scale: box.width / state.camera.w }));
  } catch (_) {
    // storage refused (a private window): the view is kept until the page reloads
  }
}

function restoreCamera() {
  // The view this tab last chose for this topology, at the same scale, its top left corner
  // where it was; false when there is none.
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(cameraKey()) || "null");
  } catch (_) {
    return false;
  }
  const box = $("graph").getBoundingClientRect();
  if (!saved || !(saved.scale > 0) || !box.width || !box.height) return false;
  state.graphBox = { width: box.width, height: box.height };
  setCamera({ x: saved.x, y: saved.y, w: box.width / saved.scale, h: box.height / saved.scale });
  return true;
}

function fit() {
  // The whole topology, centred (the first view, and the Fit button).
  const view = state.view;
  const box = $("graph").getBoundingClientRect();
  if (!view || !box.width || !box.height) return;
  state.graphBox = { width: box.width, height: box.height };
  const width = Math.max(view.width, 200);
  const height = Math.max(view.height, 120);
  // Never larger than 1.5x: a three-processor topology should not fill the screen with boxes.
  const scale = Math.min(box.width / width, box.height / height, 1.5);
  const w = box.width / scale;
  const h = box.height / scale;
  setCamera({ x: (width - w) / 2, y: (height - h) / 2, w, h }, false);
}

function keepScale(width, height) {
  // The graph's pane changed size (the detail drawer opened or closed, the window was
  // resized): the same scale and the same top left corner, which stays where it is on
  // screen, so nothing the user looks at moves. A view the user never moved is fitted
  // again instead.
  const before = state.graphBox;
  if (!state.cameraMoved || !before) {
    fit();
    return;
  }
  const c = state.camera;
  const scale = before.width / c.w;
  const w = width / scale;
  const h = height / scale;
  state.graphBox = { width, height };
  setCamera({ x: c.x, y: c.y, w, h });
}

function zoom(factor, cx, cy) {
  const c = state.camera;
  const x = cx ?? c.x + c.w / 2;
  const y = cy ?? c.y + c.h / 2;
  setCamera({ x: x - (x - c.x) * factor, y: y - (y - c.y) * factor, w: c.w * factor, h: c.h * factor });
}

function setupPanZoom() {
  const root = $("graph");
  let drag = null;
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = root.getBoundingClientRect();
    const c = state.camera;
    const x = c.x + ((event.clientX - box.left) / box.width) * c.w;
    const y = c.y + ((event.clientY - box.top) / box.height) * c.h;
    zoom(event.deltaY > 0 ? 1.12 : 1 / 1.12, x, y);
  }, { passive: false });
  root.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, camera: { ...state.camera }, moved: false };
  });
  root.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    drag.moved = true;
    root.classList.add("panning");
    const box = root.getBoundingClientRect();
    const c = drag.camera;
    setCamera({ ...c, x: c.x - (dx / box.width) * c.w, y: c.y - (dy / box.height) * c.h });
  });
  const end = () => {
    drag = null;
    root.classList.remove("panning");
  };
  root.addEventListener("pointerup", end);
  root.addEventListener("pointerleave", end);
  $("zoom-in").addEventListener("click", () => zoom(1 / 1.25));
  $("zoom-out").addEventListener("click", () => zoom(1.25));
  $("fit").addEventListener("click", () => fit());
  new ResizeObserver(([entry]) => {
    const { width, height } = entry.contentRect;
    if (width && height) keepScale(width, height);
  }).observe(root);
}

function focusOn(nodeId) {
  const node = state.nodes.get(nodeId);
  if (!node) return;
  const c = state.camera;
  const d = node.data;
  setCamera({ ...c, x: d.x + d.width / 2 - c.w / 2, y: d.y + d.height / 2 - c.h / 2 });
  pulse(node, false);
  selectNode(nodeId, true);
}

// --- running a simulation ----------------------------------------------------------------

function resetRun() {
  if (pending.frame) cancelAnimationFrame(pending.frame);
  pending.frame = 0;
  pending.invocations = [];
  state.selectedRow = null;
  state.tracedRows = [];
  state.invocations.clear();
  state.rows.clear();
  state.children.clear();
  state.laterAttempt.clear();
  state.byTrace.clear();
  state.counts.clear();
  state.carried.clear();
  state.selected = null;
  $("invocations").replaceChildren();
  $("dead-letters").replaceChildren();
  $("dead-letters-pane").hidden = true;
  $("verdict").hidden = true;
  $("input-error").hidden = true;
  state.visible = 0;
  $("invocation-count").textContent = "";
  $("no-run").hidden = true;
  $("detail").hidden = true;
  $("dots").replaceChildren();
  state.dots = 0;
  highlightTrace(null);
  applyCounts();
}

// The run's body: the editor's input, or (the "Replay dead letters" button) the last
// run's dead letters, each sent back into the stream it was read from.
async function run(body = null, url = "/api/run") {
  if (state.running) {
    // Closing the event stream stops the run: the server ends its process.
    state.running.abort();
    return;
  }
  resetRun();
  beginRecord(editorInput(), body && body.dead_letters ? body.dead_letters.length : 0);
  const controller = new AbortController();
  state.running = controller;
  showRunning(true);
  $("run-state").textContent = "running…";
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || { input: editorInput() }),
      signal: controller.signal,
    });
    if (!response.ok) {
      let message = response.statusText;
      let refusal = {};
      try {
        refusal = await response.json();
        message = refusal.error || message;
      } catch (_) {
        // not JSON: keep the status text
      }
      showInputError(message);
      recordEvent("failed", { message }); // the history keeps the input that was refused
      $("run-state").textContent = "";
      // The file on disk has errors now: the graph and the issues above it show them.
      if (refusal.topology_errors) loadTopology(true);
      return;
    }
    await readEvents(response.body);
    $("run-state").textContent = `done in ${((performance.now() - started) / 1000).toFixed(2)} s`;
  } catch (error) {
    flushInvocations(); // what arrived before the stop is shown
    if (controller.signal.aborted) {
      $("run-state").textContent = `stopped after ${((performance.now() - started) / 1000).toFixed(1)} s`;
      markUnfinished();
    } else {
      showInputError("the run was cut off: " + error.message);
      $("run-state").textContent = "";
    }
  } finally {
    state.running = null;
    showRunning(false);
    finishRecord($("run-state").textContent);
  }
}

// A button per scheduled processor: fires its schedule once, as simulate --schedule-ticks 1.
function showScheduleButtons(view) {
  const scheduled = view.nodes.filter((node) => node.kind === "processor" && node.schedule);
  $("schedules").replaceChildren(
    ...scheduled.map((node) =>
      el("button", {
        class: "chip",
        title: `Fire ${node.schedule} once, with the event EventBridge would send`,
        onclick: () => run({ processor: node.id }, "/api/schedule"),
      }, `⏱ fire ${node.id}`),
    ),
  );
  $("schedules").hidden = scheduled.length === 0;
}

function showRunning(running) {
  if (state.mode === "live") {
    showSendButton(); // the same button sends to the deployment there
    return;
  }
  const button = $("run");
  button.textContent = running ? "Stop ■" : "Run ▶";
  button.classList.toggle("stop", running);
  button.title = running
    ? "Stop this run (a handler that never returns is stopped with it)"
    : "Simulate the topology with this input (Ctrl+Enter)";
  button.disabled = !running && !(state.view && state.view.ok);
}

function markUnfinished() {
  // What was running when the run stopped is what the user wants to look at.
  const verdict = $("verdict");
  verdict.hidden = false;
  verdict.className = "bad";
  verdict.replaceChildren(
    `■ stopped by you after ${plural(state.invocations.size, "invocation")}`,
    el("div", { class: "sub" }, "the invocations listed are those that finished; a handler that does not return (a loop, a wait on something unreachable) keeps a run going until stopped"),
  );
}

function showInputError(message) {
  const box = $("input-error");
  box.textContent = message;
  box.hidden = false;
}

async function readEvents(body) {
  // Server-sent events over a POST: "event: kind\ndata: json\n\n", read as they arrive.
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    // One cut per chunk, not one per event: a chunk may hold thousands of events.
    let start = 0;
    let end;
    while ((end = buffer.indexOf("\n\n", start)) >= 0) {
      const block = buffer.slice(start, end);
      start = end + 2;
      let kind = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(kind, data ? JSON.parse(data) : null);
    }
    buffer = buffer.slice(start);
  }
}

function onEvent(kind, data) {
  recordEvent(kind, data);
  if (kind === "start") {
    $("run-state").textContent = `running ${plural(data.events, "input event")}…`;
  } else if (kind === "invocation") {
    pending.invocations.push(data);
    if (!pending.frame) pending.frame = requestAnimationFrame(flushInvocations);
  } else if (kind === "end") {
    flushInvocations();
    finishRun(data);
  } else if (kind === "failed") {
    flushInvocations();
    showInputError(data.message);
  }
}

function counter(processor) {
  if (!state.counts.has(processor)) {
    state.counts.set(processor, { invocations: 0, errors: 0, emits: 0, seconds: 0, dead: 0, failed: 0, retries: 0 });
  }
  return state.counts.get(processor);
}

function flushInvocations() {
  if (pending.frame) cancelAnimationFrame(pending.frame);
  pending.frame = 0;
  const batch = pending.invocations;
  pending.invocations = [];
  if (batch.length) addInvocations(batch, false);
}

function addInvocations(batch, quiet) {
  // quiet: a past run is shown at once, not replayed.
  const nodes = new Set();
  const edges = new Set();
  const rows = document.createDocumentFragment();
  for (const invocation of batch) {
    state.invocations.set(invocation.id, invocation);
    if (invocation.parent !== null) {
      if (!state.children.has(invocation.parent)) state.children.set(invocation.parent, []);
      state.children.get(invocation.parent).push(invocation.id);
    }
    if (!state.byTrace.has(invocation.trace)) state.byTrace.set(invocation.trace, []);
    state.byTrace.get(invocation.trace).push(invocation.id);
    if (invocation.previous !== null && invocation.previous !== undefined) {
      state.laterAttempt.set(invocation.previous, invocation.id);
      // Failures only: a record is one row, its latest attempt's; the earlier one goes.
      const earlier = state.rows.get(invocation.previous);
      if (failuresOnly() && earlier && !earlier.classList.contains("hidden")) {
        earlier.classList.add("hidden");
        state.visible -= 1;
      }
    }

    const count = counter(invocation.processor);
    count.invocations += 1;
    count.seconds += invocation.seconds;
    if (invocation.error) count.errors += 1;
    else count.emits += invocation.emits.length;
    const edgeId = state.edgeByStream.get(invocation.source);
    if (edgeId) {
      state.carried.set(edgeId, (state.carried.get(edgeId) || 0) + 1);
      edges.add(edgeId);
    }
    nodes.add(invocation.processor);

    const row = invocationRow(invocation);
    state.rows.set(invocation.id, row);
    rows.append(row);
    if (!row.classList.contains("hidden")) state.visible += 1;
  }
  $("invocations").append(rows);
  for (const processor of nodes) updateNode(processor);
  for (const edgeId of edges) updateEdge(edgeId);
  showCount();
  if (!quiet) animate(batch);
}

function invocationRow(invocation) {
  const flow = el("span", { class: "flow" });
  flow.append(preview(invocation.event, 40));
  if (invocation.error) {
    flow.append(el("span", { class: "arrow" }, " ✗"));
  } else if (invocation.emits.length) {
    const first = invocation.emits[0];
    const more = invocation.emits.length > 1 ? ` +${invocation.emits.length - 1}` : "";
    flow.append(el("span", { class: "arrow" }, " → "), preview(first.data, 40) + more);
  }
  const attempt = invocation.attempt > 1 ? ` (attempt ${invocation.attempt})` : "";
  const error = invocation.error ? invocation.error.message : null;
  const row = el(
    "li",
    {
      class: error ? "failed" : "",
      "data-invocation": invocation.id,
      "data-processor": invocation.processor,
      title: `${invocation.processor} ← ${invocation.from ?? "input"}${attempt}` + (error ? `\n${error}` : ""),
      onclick: () => selectInvocation(invocation.id),
    },
    el("span", { class: "id" }, "#" + invocation.id),
    el("span", { class: "what" }, el("span", { class: "proc" }, invocation.processor + attempt + " "), flow),
    el("span", { class: "ms" }, ms(invocation.seconds)),
    // The error on a line of its own, wrapped, whole: the reason is what a failed row is
    // read for (a message of pages is cut there; the detail shows it all).
    error ? el("span", { class: "why" }, clipText(error, 4000)) : null,
  );
  if (shown(invocation)) groupAttempts(row, invocation);
  else row.classList.add("hidden");
  return row;
}

function updateNode(processor) {
  if (state.mode === "live") return; // the nodes show live metrics until Simulate is back
  const node = state.nodes.get(processor);
  if (!node) return;
  const count = state.counts.get(processor);
  if (!count) return;
  // No errors is the least telling count, then the emits, the invocations.
  showCounts(node, [
    [`${compact(count.invocations)} inv`, false, 1],
    [`${compact(count.errors)} err`, count.errors > 0, count.errors > 0 ? 2 : -1],
    [`${compact(count.emits)} out`, false, 0],
    count.dead ? [`${compact(count.dead)} dead`, true, 3] : null,
  ]);
  node.group.classList.toggle("failed", count.errors > 0);
  node.title.textContent =
    tooltip(node.data) +
    `\n${plural(count.invocations, "invocation")}, ${plural(count.errors, "error")}, ` +
    `${plural(count.failed, "failed event")}, ${plural(count.retries, "retry", "retries")}, ` +
    `${plural(count.emits, "emit")}, ${plural(count.dead, "dead letter")}; ` +
    `${ms(count.seconds)} in the handler`;
}

function showCounts(node, parts) {
  // parts: [text, bad, rank] (or null); the line of counts under a node's name. Counts that
  // do not fit on the node are left to its tooltip, the lowest rank first: never drawn
  // past its edge.
  const kept = parts.filter(Boolean);
  const room = node.data.width - 20;
  const line = () => kept.map((part) => part[0]).join(" · ");
  while (kept.length > 1 && textWidth(line(), TEXT_PX, node.counts) > room) {
    const least = kept.reduce((a, b) => (b[2] < a[2] ? b : a));
    kept.splice(kept.indexOf(least), 1);
  }
  node.counts.replaceChildren();
  kept.forEach(([text, bad], i) => {
    if (i) node.counts.append(svg("tspan", {}, " · "));
    node.counts.append(svg("tspan", bad ? { class: "bad" } : {}, text));
  });
}

function updateEdge(edgeId) {
  const edge = state.edges.get(edgeId);
  const carried = state.carried.get(edgeId) || 0;
  edge.group.classList.toggle("carried", carried > 0);
  if (edge.label) {
    const text = carried ? ` ×${compact(carried)}` : "";
    if (edge.count.textContent !== text) {
      edge.count.textContent = text;
      placeLabel(edge);
    }
  }
}

function applyCounts() {
  if (state.mode === "live") return;
  for (const [id, node] of state.nodes) {
    if (state.counts.has(id)) updateNode(id);
    else if (node.data.kind === "processor") {
      node.counts.textContent = node.data.entry ? (node.data.input === "stream" ? "entry · ingest stream" : "entry") : "";
      node.group.classList.remove("failed");
    }
  }
  for (const id of state.edges.keys()) updateEdge(id);
}

function animate(batch) {
  // A batch is what arrived in one frame: each node pulses once for it (red if any of its
  // invocations failed), and the latest records travel as dots while there is room.
  const pulses = new Map(); // processor -> failed
  for (const invocation of batch) {
    pulses.set(invocation.processor, pulses.get(invocation.processor) || Boolean(invocation.error));
  }
  const travelled = new Set();
  for (let i = batch.length - 1; i >= 0 && state.dots < MAX_DOTS; i--) {
    const invocation = batch[i];
    const edgeId = state.edgeByStream.get(invocation.source);
    if (!edgeId || travelled.has(edgeId)) continue;
    travelled.add(edgeId);
    const processor = invocation.processor;
    const failed = pulses.get(processor);
    pulses.delete(processor); // it pulses when its dot arrives
    travel(state.edges.get(edgeId), failed, () => pulse(state.nodes.get(processor), failed));
  }
  for (const [processor, failed] of pulses) pulse(state.nodes.get(processor), failed);
  for (let i = batch.length - 1; i >= 0 && state.dots < MAX_DOTS; i--) {
    const invocation = batch[i];
    if (invocation.error) continue;
    for (const emit of invocation.emits) {
      if (emit.to.length) continue;
      const sink = state.edges.get(`sink:${invocation.processor}:${emit.topic}:edge`);
      if (sink && !travelled.has(sink.data.id)) {
        travelled.add(sink.data.id);
        travel(sink, false, () => {});
      }
    }
  }
}

function pulse(node, failed) {
  // The Web Animations API restarts an animation without the forced layout a CSS class
  // toggled off and on again needs.
  if (!node || !node.rect.animate) return;
  const colours = failed ? ["#b53b3b", "#3a1d21"] : ["#2e6fb5", "#1d2632"];
  node.rect.animate([{ fill: colours[0] }, { fill: colours[1] }], { duration: failed ? 900 : 600, easing: "ease-out" });
}

function travel(edge, failed, done) {
  const path = edge.path;
  if (state.dots >= MAX_DOTS || !path.isConnected) {
    done();
    return;
  }
  state.dots += 1;
  const length = pathLength(edge);
  const dot = svg("circle", { r: 5, class: failed ? "dot error" : "dot" });
  $("dots").append(dot);
  const start = performance.now();
  const step = (now) => {
    const t = Math.min(1, (now - start) / DOT_MS);
    const point = path.getPointAtLength(length * t);
    dot.setAttribute("cx", point.x);
    dot.setAttribute("cy", point.y);
    if (t < 1) requestAnimationFrame(step);
    else {
      dot.remove();
      state.dots -= 1;
      done();
    }
  };
  requestAnimationFrame(step);
}

function finishRun(end) {
  for (const [processor, row] of Object.entries(end.summary)) {
    const count = counter(processor);
    // The run's own counts: the ones a deployed processor publishes as metrics.
    count.dead = row.dead_letters;
    count.failed = row.failed;
    count.retries = row.retries;
    updateNode(processor);
  }
  const verdict = $("verdict");
  verdict.hidden = false;
  verdict.replaceChildren();
  const emits = Object.values(end.summary).reduce((sum, row) => sum + row.emits, 0);
  const counts = `${plural(end.invocations, "invocation")}, ${plural(emits, "emit")}, ${plural(end.dead_letters.length, "dead letter")}`;
  if (end.ok) {
    verdict.className = "ok";
    verdict.append(`✓ every record processed: ${counts}`);
  } else {
    verdict.className = "bad";
    verdict.append(end.stopped ? `✗ stopped: ${end.stopped}` : `✗ ${counts}`);
    if (end.stopped) verdict.append(el("div", { class: "sub" }, `${counts}; ${end.unprocessed} records left unprocessed`));
  }
  if (end.shown < end.invocations) {
    verdict.append(
      el("div", { class: "sub" }, `showing the first ${end.shown}; attak simulate --json lists all ${end.invocations}`),
    );
  }
  const letters = $("dead-letters");
  letters.replaceChildren();
  $("dead-letters-pane").hidden = end.dead_letters.length === 0;
  state.deadLetters = end.dead_letters;
  $("dead-letter-count").textContent = `(${end.dead_letters.length})`;
  // Numbered by the page, in a column as wide as the largest number: never cut.
  letters.style.setProperty("--number-width", `${String(end.dead_letters.length).length + 1}ch`);
  const items = document.createDocumentFragment();
  end.dead_letters.forEach((letter, i) => {
    items.append(
      el(
        "li",
        { title: letter.error, onclick: () => letter.invocation && selectInvocation(letter.invocation) },
        el("span", { class: "n" }, `${i + 1}.`),
        el(
          "div",
          {},
          el("div", { class: "what" }, `${letter.processor} ← ${letter.source}: ${preview(letter.event, 40)}`),
          el("div", { class: "error" }, clipText(letter.error, 4000)),
          el("div", { class: "muted" }, `after ${plural(letter.attempts, "attempt")} · trace ${letter.trace}`),
        ),
      ),
    );
  });
  letters.append(items);
  if (failuresOnly()) applyFilters(); // the bisect splits of dead letters can be named now
  const firstFailure = [...state.invocations.values()].find((i) => i.error);
  if (firstFailure && state.selected === null) selectInvocation(firstFailure.id);
}

// --- selecting: an invocation and its trace, or a processor ------------------------------

function selectInvocation(id) {
  const invocation = state.invocations.get(id);
  if (!invocation) return;
  state.selected = id;
  state.selectedRow?.classList.remove("selected");
  const row = state.rows.get(id);
  state.selectedRow = row ?? null;
  if (row) {
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }
  highlightTrace(invocation);
  showInvocation(invocation);
}

function highlightTrace(invocation) {
  for (const node of state.nodes.values()) node.group.classList.remove("in-trace", "selected");
  for (const edge of state.edges.values()) edge.group.classList.remove("in-trace");
  for (const row of state.tracedRows) row.classList.remove("in-trace");
  state.tracedRows = [];
  if (!invocation) return;
  for (const id of state.byTrace.get(invocation.trace) || []) {
    const step = state.invocations.get(id);
    state.nodes.get(step.processor)?.group.classList.add("in-trace");
    const edgeId = state.edgeByStream.get(step.source);
    if (edgeId) state.edges.get(edgeId).group.classList.add("in-trace");
    const row = state.rows.get(id);
    if (row) {
      row.classList.add("in-trace");
      state.tracedRows.push(row);
    }
  }
  state.nodes.get(invocation.processor)?.group.classList.add("selected");
}

function section(title, ...content) {
  return [el("h3", {}, title), ...content];
}

function showInvocation(invocation) {
  const detail = $("detail");
  detail.hidden = false;
  detail.replaceChildren();
  const from = invocation.parent === null ? "outside input" : `#${invocation.parent} ${invocation.from}`;
  const status = invocation.error
    ? el("span", { class: "sev-error" }, "✗ failed")
    : el("span", { style: "color: var(--ok)" }, "✓ ok");
  detail.append(
    el(
      "div",
      { class: "head" },
      el("span", { class: "what" }, `#${invocation.id} ${invocation.processor}`),
      status,
      el(
        "span",
        { class: "muted" },
        `attempt ${invocation.attempt} · from ${from} via ${invocation.source} · ${ms(invocation.seconds)} · trace ${invocation.trace}`,
      ),
      el(
        "button",
        {
          class: "replay",
          title: `Run this event again, alone, straight into ${invocation.processor} (say, after fixing its handler)`,
          onclick: () => replay(invocation),
        },
        "Replay ↻",
      ),
      el("button", { class: "close", onclick: () => closeDetail() }, "Close ✕"),
    ),
  );
  const left = el("div");
  left.append(...section("Event", el("pre", {}, pretty(invocation.event))));
  if (invocation.error) {
    left.append(
      ...section(
        "Error",
        el("pre", { class: "error" }, invocation.error.message + (invocation.error.traceback ? "\n\n" + invocation.error.traceback : "")),
      ),
    );
    if (invocation.discarded_emits) {
      left.append(el("p", { class: "muted" }, `${plural(invocation.discarded_emits, "emit")} discarded with the failed record`));
    }
  }
  if (invocation.emits.length) {
    const list = el("div");
    for (const emit of invocation.emits) {
      list.append(
        el(
          "div",
          { class: "emit" },
          el("span", { class: "topic" }, emit.topic),
          " → ",
          emit.to.length ? emit.to.join(", ") : "sink",
          el("pre", {}, pretty(emit.data)),
        ),
      );
    }
    left.append(...section(`Emits (${invocation.emits.length})`, list));
  }
  if (invocation.logs) left.append(...section("Logs", el("pre", {}, invocation.logs)));
  const right = el("div");
  right.append(...section("Trace", traceTree(invocation)));
  detail.append(el("div", { class: "columns" }, left, right));
}

function replay(invocation) {
  // The record as its processor received it becomes the whole input: the shortest way to
  // reproduce a failure deep in a pipeline.
  putInput(JSON.stringify({ [invocation.processor]: invocation.event }, null, 2) + "\n");
  if (!state.running) run();
}

function putInput(text, name = "the input of an earlier run") {
  // The page replaces the editor's text (Replay, an earlier run shown again): what the
  // user had typed there is kept, one click away, unless the page had put it there itself.
  const current = editorInput();
  if (current !== text && current !== state.placedInput && current.trim()) {
    state.savedInput = current;
    $("restore-input").hidden = false;
  }
  setInput(text, name);
  state.placedInput = text;
}

function restoreInput() {
  if (state.savedInput === null) return;
  setInput(state.savedInput, "your input");
  state.placedInput = null;
  state.savedInput = null;
  $("restore-input").hidden = true;
}

function editorInput() {
  // What Run sends: the editor's text, or the large input the page holds instead.
  return state.heldInput ? state.heldInput.text : $("input").value;
}

function setInput(text, name) {
  if (text.length <= LARGE_INPUT) {
    releaseInput();
    $("input").value = text;
    return;
  }
  const lines = text.split("\n").filter((line) => line.trim()).length;
  state.heldInput = { name, text };
  $("input").value = "";
  $("input").hidden = true;
  const held = $("held-input");
  held.hidden = false;
  held.firstChild.textContent =
    `${name}: ${plural(lines, "line")}, ${(text.length / 1048576).toFixed(1)} MB, ` +
    "held by the page rather than shown here (a text area that large makes the page crawl); Run sends it";
}

function releaseInput() {
  state.heldInput = null;
  $("input").hidden = false;
  $("held-input").hidden = true;
}

function setupInput() {
  const editor = $("input");
  editor.addEventListener("paste", (event) => {
    // A large paste goes to the page, not into the text area.
    const pasted = event.clipboardData ? event.clipboardData.getData("text") : "";
    if (pasted.length <= LARGE_INPUT) return;
    event.preventDefault();
    const text = editor.value.slice(0, editor.selectionStart) + pasted + editor.value.slice(editor.selectionEnd);
    setInput(text, "pasted input");
  });
  $("open-input").addEventListener("click", () => $("input-file").click());
  $("input-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    putInput(await file.text(), file.name);
    event.target.value = ""; // the same file may be opened again after an edit
  });
  $("held-input").lastChild.addEventListener("click", () => {
    releaseInput();
    editor.focus();
  });
}

function traceTree(current) {
  // The trace as a tree: outside input at the top, each invocation under its parent.
  const ids = state.byTrace.get(current.trace) || [];
  const list = el("ol", { class: "trace", "aria-label": "trace" });
  const roots = ids.filter((id) => {
    const parent = state.invocations.get(id).parent;
    return parent === null || !state.invocations.has(parent);
  });
  const walk = (id, depth) => {
    const step = state.invocations.get(id);
    let relation = "";
    if (id === current.id) relation = "selected";
    else if (id === current.parent) relation = "parent";
    else if (step.parent === current.id) relation = "child";
    const outcome = step.error ? "✗" : "✓";
    const attempt = step.attempt > 1 ? ` attempt ${step.attempt}` : "";
    list.append(
      el(
        "li",
        {
          class: id === current.id ? "current" : "",
          style: `padding-left: ${6 + depth * 16}px`,
          "data-invocation": id,
          onclick: () => selectInvocation(id),
        },
        `${depth ? "└ " : ""}${outcome} #${id} ${step.processor}${attempt}  ${preview(step.event, 30)}`,
        relation ? el("span", { class: "rel" }, relation) : null,
      ),
    );
    for (const child of state.children.get(id) || []) walk(child, depth + 1);
    // Emits that no stream carries end the trace here: show where they ended.
    for (const emit of step.error ? [] : step.emits) {
      if (emit.to.length) continue;
      list.append(
        el(
          "li",
          { class: "muted", style: `padding-left: ${6 + (depth + 1) * 16}px` },
          `└ ⇥ '${emit.topic}' sink  ${preview(emit.data, 30)}`,
        ),
      );
    }
  };
  for (const id of roots) walk(id, 0);
  return list;
}

function closeDetail() {
  $("detail").hidden = true;
  state.selected = null;
  state.selectedRow?.classList.remove("selected");
  state.selectedRow = null;
  highlightTrace(null);
}

function selectNode(id, keepFilter) {
  const node = state.nodes.get(id);
  if (!node) return;
  if (state.mode === "live") {
    if (node.data.kind === "processor") selectLiveProcessor(id);
    return;
  }
  if (node.data.kind === "processor" && !keepFilter) {
    setFilter(state.filter === id ? null : id);
  }
  showNode(node.data);
}

function failuresOnly() {
  return $("failures-only").checked;
}

function shown(invocation) {
  // The list keeps what every filter lets through: a processor, failures, a text. With
  // failures only, each record that failed is one row (its latest attempt's), found by
  // a text in any of its attempts.
  if (state.filter && state.filter !== invocation.processor) return false;
  let attempts = [invocation];
  if (failuresOnly()) {
    if (state.laterAttempt.has(invocation.id)) return false;
    attempts = attemptsOf(invocation);
    if (!attempts.some((a) => a.error)) return false;
  }
  const query = $("find").value.trim().toLowerCase();
  return !query || attempts.some((a) => searchText(a).includes(query));
}

function attemptsOf(invocation) {
  // Every attempt at this invocation's record, first to this one.
  const attempts = [invocation];
  for (let at = invocation; at.previous !== null && at.previous !== undefined; ) {
    at = state.invocations.get(at.previous);
    if (!at) break;
    attempts.unshift(at);
  }
  return attempts;
}

function bisectSplits(attempts) {
  // How many of a dead-lettered record's first failures were bisect splits: Lambda halves
  // a failing batch (bisect_batch_on_error) without using up a retry, so the failures
  // past retry_attempts + 1 are the splits, which come before the counted retries.
  const last = attempts[attempts.length - 1];
  const edgeId = state.edgeByStream.get(last.source);
  const retries = edgeId ? state.edges.get(edgeId).data.retry_attempts : undefined;
  const letter = (state.deadLetters || []).find((l) => l.invocation === last.id);
  if (retries === undefined || !letter) return 0;
  return Math.max(0, attempts.length - (retries + 1));
}

function groupAttempts(row, invocation) {
  // With failures only, a record's row opens onto its attempts: each one's number and
  // error (a repeat said as such), a bisect split named, each a click away.
  const open = row.querySelector(".attempts")?.open;
  row.querySelector(".attempts")?.remove();
  if (!failuresOnly()) return;
  const attempts = attemptsOf(invocation);
  if (attempts.length < 2) return;
  const splits = bisectSplits(attempts);
  const list = el("ol");
  attempts.forEach((attempt, i) => {
    const split = i < splits;
    const counted = i - splits; // tries that count toward retry_attempts, from 0
    let what = counted === 0 ? "first try" : `retry ${counted}`;
    if (split) what = "bisect split: its batch was halved, no retry used";
    else if (counted === 0 && splits) what = "first try alone";
    const error = attempt.error ? attempt.error.message : null;
    const same = error && i > 0 && attempts[i - 1].error && attempts[i - 1].error.message === error;
    list.append(
      el(
        "li",
        {
          class: (error ? "failed" : "ok") + (split ? " split" : ""),
          "data-invocation": attempt.id,
          title: error || "processed",
          onclick: (event) => {
            event.stopPropagation();
            selectInvocation(attempt.id);
          },
        },
        el("span", { class: "n" }, `attempt ${attempt.attempt}`),
        el("span", { class: "muted" }, ` #${attempt.id} · ${what} · `),
        error ? (same ? el("span", { class: "muted" }, "same error") : el("span", { class: "err" }, error)) : "✓ processed",
      ),
    );
  });
  const last = attempts[attempts.length - 1];
  const outcome = last.error ? `✗ ${plural(attempts.length, "attempt")}, all failed` : `✓ processed on attempt ${last.attempt}`;
  const details = el("details", { class: "attempts", onclick: (event) => event.stopPropagation() }, el("summary", {}, outcome), list);
  details.open = Boolean(open);
  row.append(details);
}

function searchText(invocation) {
  // What a user may look for: the data in and out, the error, what the handler printed.
  if (invocation.text === undefined) {
    invocation.text = [
      invocation.processor,
      invocation.trace,
      JSON.stringify(invocation.event),
      ...invocation.emits.map((emit) => emit.topic + " " + JSON.stringify(emit.data)),
      invocation.error ? invocation.error.message : "",
      invocation.logs || "",
    ]
      .join("\n")
      .toLowerCase();
  }
  return invocation.text;
}

function applyFilters() {
  state.visible = 0;
  for (const [id, row] of state.rows) {
    const invocation = state.invocations.get(id);
    const visible = shown(invocation);
    row.classList.toggle("hidden", !visible);
    if (visible) {
      state.visible += 1;
      groupAttempts(row, invocation);
    } else if (row.lastChild.className === "attempts") row.lastChild.remove();
  }
  showCount();
}

function showCount() {
  const total = state.invocations.size;
  $("invocation-count").textContent =
    total === 0 ? "" : state.visible === total ? `(${total})` : `(${state.visible} of ${total})`;
}

function setFilter(processor) {
  state.filter = processor;
  for (const [id, node] of state.nodes) node.group.classList.toggle("filtered", id === processor);
  applyFilters();
  const chip = $("clear-filter");
  chip.hidden = !processor;
  chip.textContent = processor ? `only ${processor} ✕` : "";
}

function showNode(node) {
  const detail = $("detail");
  detail.hidden = false;
  detail.replaceChildren();
  const kind = {
    processor: "processor",
    sink: "sink",
    missing: "undefined processor",
    external: `existing ${node.external} stream · ${node.arn}`,
  }[node.kind];
  detail.append(
    el(
      "div",
      { class: "head" },
      el("span", { class: "what" }, node.kind === "sink" ? `topic '${node.topic}'` : node.label),
      el("span", { class: "muted" }, kind + (node.entry ? " · entry" : "")),
      el("button", { class: "close", onclick: () => closeDetail() }, "Close ✕"),
    ),
  );
  const facts = el("dl", { class: "kv" });
  const fact = (name, value) => facts.append(el("dt", {}, name), el("dd", {}, String(value)));
  if (node.kind === "processor") {
    fact("handler", node.handler);
    fact("memory", `${node.memory} MB`);
    fact("timeout", `${node.timeout} s`);
    fact("input", node.entry ? (node.input === "stream" ? "ingest stream and streams" : "direct invoke") : "streams");
    const count = state.counts.get(node.id);
    if (count) {
      fact("invocations", count.invocations);
      fact("errors", count.errors);
      fact("failed events", count.failed);
      fact("retries", count.retries);
      fact("emits", count.emits);
      fact("dead letters", count.dead);
      fact("handler time", `${ms(count.seconds)} total, ${ms(count.seconds / Math.max(1, count.invocations))} each`);
    }
  } else if (node.kind === "sink") {
    fact("emitted by", node.processor);
    fact("delivered to", "no stream: emits on this topic end here");
  } else {
    fact("named by", "a stream, but not under processors:");
  }
  const left = el("div", {}, facts);
  const right = el("div");
  if (node.issues.length) {
    const list = el("ol", { id: "node-issues" });
    for (const issue of node.issues) {
      list.append(el("li", { class: "sev-" + issue.severity }, el("code", {}, issue.path + ": "), issue.message));
    }
    right.append(...section("Issues", list));
  }
  const incoming = [...state.edges.values()].filter((e) => e.data.target === node.id && e.data.issues.length);
  for (const edge of incoming) {
    const list = el("ol");
    for (const issue of edge.data.issues) {
      list.append(el("li", { class: "sev-" + issue.severity }, el("code", {}, issue.path + ": "), issue.message));
    }
    right.append(...section(`Stream ${edge.data.stream}`, list));
  }
  detail.append(el("div", { class: "columns" }, left, right));
}

// --- start ---------------------------------------------------------------------------------

setupPanZoom();
$("run").addEventListener("click", () => (state.mode === "live" ? sendLive() : run()));
$("replay-dead-letters").addEventListener("click", () => {
  if (!state.running && state.deadLetters && state.deadLetters.length) {
    run({ dead_letters: state.deadLetters });
  }
});
$("reload").addEventListener("click", () => loadTopology(true));
$("clear-filter").addEventListener("click", () => setFilter(null));
$("find").addEventListener("input", applyFilters);
$("failures-only").addEventListener("change", applyFilters);
$("restore-input").addEventListener("click", restoreInput);
setupInput();
$("input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("run").click();
});
loadTopology(false);
