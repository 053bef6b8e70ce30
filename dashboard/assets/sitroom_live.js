/* The live COP in the browser: one Socket.IO connection to /cop, deltas applied here.
 *
 * Protocol (see dashboard/live/hub.py): a snapshot (pages) current at seq S, then batches
 * {from, to, d: [{s, ts, op, id, f}]}. Deltas with s above our cursor are applied; a batch
 * starting above our cursor means we missed something, and we ask to resync. We acknowledge
 * our cursor now and then so the hub can tell a slow screen from a healthy one.
 */
(function () {
  "use strict";
  const ACK_EVERY_MS = 500;
  const LIST_LENGTH = 60;
  const SEVERITY_ORDER = {extreme: 0, severe: 1, moderate: 2, minor: 3, unknown: 4};
  const SEVERITIES = ["extreme", "severe", "moderate", "minor"];

  const live = {
    features: new Map(), cursor: null, waiting: [], snapshot: null, socket: null,
    renderQueued: false, lastAck: 0, ackTimer: null, batches: 0, lastBatchAt: null,
  };
  window.sitroom = Object.assign(window.sitroom || {}, {live: live});

  function start() {
    const holder = document.getElementById("cop-live");
    const ready = holder && window.io && window.dash_clientside &&
      window.dash_clientside.set_props && document.getElementById("cop-list");
    if (!ready) { setTimeout(start, 50); return; }
    const socket = window.io(holder.dataset.namespace, {
      transports: ["websocket", "polling"],
      auth: (send) => send({agency: holder.dataset.agency,
                            clearance: holder.dataset.clearance, cursor: live.cursor}),
    });
    live.socket = socket;
    socket.on("connect", () => showConnection("live", "LIVE"));
    socket.on("disconnect", () => showConnection("reconnecting", "RECONNECTING…"));
    socket.io.on("reconnect_attempt", () => showConnection("reconnecting", "RECONNECTING…"));
    socket.on("connect_error", (err) => showConnection("offline", "OFFLINE: " + err.message));
    socket.on("snapshot", onSnapshot);
    socket.on("batch", onBatch);
  }

  function onSnapshot(msg) {
    if (msg.page === 0) { live.snapshot = {seq: msg.seq, features: []}; }
    if (!live.snapshot || live.snapshot.seq !== msg.seq) { return; }
    live.snapshot.features.push(...msg.features);
    if (msg.page + 1 < msg.pages) { return; }
    live.features = new Map(live.snapshot.features.map((f) => [f.id, f]));
    live.cursor = live.snapshot.seq;
    live.snapshot = null;
    const waiting = live.waiting;
    live.waiting = [];
    waiting.forEach(onBatch);
    scheduleRender();
    acknowledge(true);
  }

  function onBatch(msg) {
    if (live.cursor === null) { live.waiting.push(msg); return; }
    if (msg.from > live.cursor) {  // a gap: ask for what we missed, keep what we have
      live.socket.emit("resync", {cursor: live.cursor});
      return;
    }
    for (const delta of msg.d) {
      if (delta.s <= live.cursor) { continue; }
      if (delta.op === "remove") { live.features.delete(delta.id); }
      else { live.features.set(delta.id, delta.f); }
    }
    live.cursor = Math.max(live.cursor, msg.to);
    live.batches += 1;
    live.lastBatchAt = Date.now();
    scheduleRender();
    acknowledge(false);
  }

  function acknowledge(now) {
    const due = live.lastAck + ACK_EVERY_MS - Date.now();
    if (now || due <= 0) {
      clearTimeout(live.ackTimer);
      live.ackTimer = null;
      live.lastAck = Date.now();
      live.socket.emit("ack", {cursor: live.cursor});
    } else if (!live.ackTimer) {
      live.ackTimer = setTimeout(() => { live.ackTimer = null; acknowledge(true); }, due);
    }
  }

  function scheduleRender() {
    if (live.renderQueued) { return; }
    live.renderQueued = true;
    requestAnimationFrame(render);
  }

  function render() {
    live.renderQueued = false;
    const layers = {incidents: [], units: [], areas: []};
    for (const f of live.features.values()) {
      if (!f.geometry) { continue; }
      const kind = f.properties.kind;
      if (kind === "unit") { layers.units.push(f); }
      else if (kind === "alert" || kind === "annotation") { layers.areas.push(f); }
      else { layers.incidents.push(f); }
    }
    const set = window.dash_clientside.set_props;
    set("cop-incidents", {data: {type: "FeatureCollection", features: layers.incidents}});
    set("cop-units", {data: {type: "FeatureCollection", features: layers.units}});
    set("cop-areas", {data: {type: "FeatureCollection", features: layers.areas}});
    renderList(layers.incidents);
  }

  function renderList(incidents) {
    const open = incidents.filter((f) => f.properties.status !== "closed");
    const counts = {};
    open.forEach((f) => { counts[f.properties.severity] = (counts[f.properties.severity] || 0) + 1; });
    const countsBox = document.getElementById("cop-counts");
    countsBox.replaceChildren(...SEVERITIES.map((s) =>
      element("span", "count severity-" + s, (counts[s] || 0) + " " + s)));
    open.sort((a, b) =>
      (SEVERITY_ORDER[a.properties.severity] - SEVERITY_ORDER[b.properties.severity]) ||
      (b.properties.time || "").localeCompare(a.properties.time || ""));
    const list = document.getElementById("cop-list");
    list.replaceChildren(...open.slice(0, LIST_LENGTH).map(listItem));
  }

  function listItem(f) {
    const p = f.properties;
    const item = element("li", "incident severity-" + p.severity);
    item.dataset.id = f.id;
    const time = p.time ? new Date(p.time).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "";
    item.append(
      element("span", "severity-label", p.severity.toUpperCase()),
      element("span", "title", p.title || p.category),
      element("span", "meta", p.agency + " · " + time),
      element("span", "marking marking-" + markingClass(p.marking), p.marking));
    return item;
  }

  function markingClass(label) {
    return label.replace("TLP:", "").replace("+", "_").toLowerCase();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showConnection(state, text) {
    const node = document.getElementById("cop-connection");
    if (!node) { return; }
    node.className = "connection " + state;
    node.textContent = text;
  }

  start();
})();
