/* The live COP in the browser: one Socket.IO connection to /cop, deltas applied here.
 *
 * Protocol (see dashboard/live/hub.py): a snapshot (pages) current at seq S, then batches
 * {from, to, d: [{s, ts, op, id, f}]}. Deltas with s above our cursor are applied; a batch
 * starting above our cursor means we missed something, and we ask to resync. We acknowledge
 * our cursor now and then so the hub can tell a slow screen from a healthy one. Drawing the
 * screen (layers, filters, legend, list) is sitroom_screen.js's job.
 */
(function () {
  "use strict";
  // Well inside the hub's lag window (5 s by default); at 500 screens acknowledging twice a
  // second, reading the acks was 13% of the hub's CPU (py-spy, 100 events/s).
  const ACK_EVERY_MS = 1000;

  const live = {
    features: new Map(), changed: null, timing: {}, cursor: null, waiting: [], snapshot: null, socket: null,
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
    socket.on("connect", () => {
      live.timing.connected = live.timing.connected || performance.now();
      showConnection("live", "LIVE");
    });
    socket.on("disconnect", () => showConnection("reconnecting", "RECONNECTING…"));
    socket.io.on("reconnect_attempt", () => showConnection("reconnecting", "RECONNECTING…"));
    socket.on("connect_error", (err) => showConnection("offline", "OFFLINE: " + err.message));
    socket.on("snapshot", onSnapshot);
    socket.on("batch", onBatch);
  }

  function onSnapshot(msg) {
    if (msg.page === 0) {
      live.snapshot = {seq: msg.seq, features: []};
      live.timing.snapshotFirst = performance.now();  // (how long a screen waits, for bench/)
    }
    if (!live.snapshot || live.snapshot.seq !== msg.seq) { return; }
    live.snapshot.features.push(...msg.features);
    if (msg.page + 1 < msg.pages) { return; }
    live.features = new Map(live.snapshot.features.map((f) => [f.id, f]));
    live.changed = null;  // everything changed
    live.timing.snapshotLast = performance.now();
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
      if (live.changed) { live.changed.add(delta.id); }
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
    const changed = live.changed;  // ids changed since the last render; null: all of them
    live.changed = new Set();
    if (window.sitroom.screen) { window.sitroom.screen.render(live.features, changed); }
  }

  function showConnection(state, text) {
    const node = document.getElementById("cop-connection");
    if (!node) { return; }
    node.className = "connection " + state;
    node.textContent = text;
  }

  start();
})();
