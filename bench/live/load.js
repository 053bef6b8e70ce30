/* Socket.IO screens for bench/bench_live.py: N real socket.io-client connections to /cop.
 *
 *   node bench/live/load.js '{"url": "http://127.0.0.1:PORT", "clients": N, "shareDecode": true,
 *                             "auth": {"agency": ..., "clearance": ..., "cursor": SEQ}}'
 *
 * With shareDecode, the screens of this process decode each distinct message text once and
 * share the result (read only): every screen still receives every message on its own
 * WebSocket, but JSON.parse, two thirds of this process's CPU otherwise, is paid once per
 * process instead of once per screen, so the cores go to the server under test.
 *
 * Each screen keeps a cursor the way dashboard/assets/sitroom_live.js does (apply deltas above
 * it, move it to `to`, count a batch starting above it as a gap) and acknowledges it every
 * second. For every delta whose ts (commit or generation time, epoch ms) falls in the measured
 * window it records Date.now() - ts into a 1 ms histogram: percentiles without keeping samples.
 *
 * Protocol, one JSON object a line:
 *   stdout {"ready": n}                      once every screen is connected
 *   stdin  {"window": [from_ms, to_ms], "check_at": ms}
 *   stdout {"hist": {ms: count}, "seconds": [[sum ms, count], ...], "cursors": [...],
 *           "gaps": n, "disconnects": n,
 *           "messages": n, "chars": n}      at check_at, with every screen's cursor then;
 *                                          messages and characters received (all screens)
 *                                          while the window lasted, by arrival time
 */
"use strict";

const readline = require("readline");
const { io } = require("socket.io-client");
const parser = require("socket.io-parser");

const ACK_EVERY_MS = 1000; // as the screens do (dashboard/assets/sitroom_live.js)
const CONNECT_AT_ONCE = 50; // connections opened in parallel, so the server's accept keeps up
const HIST_MS = 60000; // latencies above a minute land in the last bucket
const DECODED_KEPT = 32; // distinct message texts remembered by the shared decoder

const config = JSON.parse(process.argv[2]);
const stats = {
  hist: new Uint32Array(HIST_MS + 1), seconds: [], gaps: 0, disconnects: 0, messages: 0, chars: 0,
};
let window_ = [Infinity, -Infinity];
const screens = [];

function arrivedInWindow() {
  const now = Date.now();
  return now >= window_[0] && now <= window_[1];
}

// Counts the text every screen receives in the window (what its WebSocket delivered and the
// browser would decode), so that the two servers' frame sizes can be compared.
class CountingDecoder extends parser.Decoder {
  add(obj) {
    if (typeof obj === "string" && arrivedInWindow()) { stats.chars += obj.length; }
    super.add(obj);
  }
}
const countingParser = { ...parser, Decoder: CountingDecoder };

const decoded = new Map(); // short key -> {text, packet}, oldest first
class SharedDecoder extends CountingDecoder {
  decodeString(text) {
    // Hashing a whole 10 KB text per screen costs nearly what parsing it does: look it up by
    // its length and ends (a batch's start names its range), then confirm with a plain compare.
    const key = `${text.length}:${text.slice(0, 64)}:${text.slice(-32)}`;
    const hit = decoded.get(key);
    if (hit !== undefined && hit.text === text) { return hit.packet; }
    const packet = super.decodeString(text);
    decoded.set(key, { text, packet });
    if (decoded.size > DECODED_KEPT) { decoded.delete(decoded.keys().next().value); }
    return packet;
  }
}
const sharedParser = { ...parser, Decoder: SharedDecoder };

function onBatch(screen, msg) {
  const now = Date.now();
  if (msg.from > screen.cursor) { stats.gaps += 1; }
  if (now >= window_[0] && now <= window_[1]) { stats.messages += 1; }
  for (const delta of msg.d) {
    if (delta.s <= screen.cursor) { continue; }
    if (delta.ts < window_[0] || delta.ts > window_[1]) { continue; }
    const latency = Math.max(0, now - delta.ts);
    stats.hist[Math.min(latency, HIST_MS)] += 1;
    const second = Math.floor((delta.ts - window_[0]) / 1000);
    const bucket = stats.seconds[second] || (stats.seconds[second] = [0, 0]);
    bucket[0] += latency;
    bucket[1] += 1;
  }
  screen.cursor = Math.max(screen.cursor, msg.to);
}

function connect(index) {
  return new Promise((resolve, reject) => {
    const screen = { cursor: config.auth.cursor, acked: config.auth.cursor, socket: null };
    const socket = io(config.url + "/cop", {
      transports: ["websocket"], forceNew: true, reconnection: false, timeout: 20000,
      auth: config.auth, parser: config.shareDecode ? sharedParser : countingParser,
    });
    screen.socket = socket;
    socket.on("batch", (msg) => onBatch(screen, msg));
    socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") { stats.disconnects += 1; }
    });
    socket.once("connect", () => {
      const phase = (index * 37) % ACK_EVERY_MS; // spread the acks over the interval
      setTimeout(() => {
        screen.timer = setInterval(() => {
          if (screen.cursor === screen.acked) { return; }
          screen.acked = screen.cursor;
          socket.emit("ack", { cursor: screen.cursor });
        }, ACK_EVERY_MS);
      }, phase);
      resolve(screen);
    });
    socket.once("connect_error", (err) => reject(new Error(`screen ${index}: ${err.message}`)));
  });
}

async function connectAll() {
  for (let first = 0; first < config.clients; first += CONNECT_AT_ONCE) {
    const last = Math.min(config.clients, first + CONNECT_AT_ONCE);
    const batch = [];
    for (let i = first; i < last; i += 1) { batch.push(connect(i)); }
    screens.push(...(await Promise.all(batch)));
  }
}

function sparse(hist) {
  const out = {};
  hist.forEach((count, ms) => { if (count) { out[ms] = count; } });
  return out;
}

function closeAll() {
  for (const screen of screens) {
    clearInterval(screen.timer);
    screen.socket.disconnect();
  }
}

function measure(plan) {
  window_ = plan.window;
  setTimeout(() => {
    const report = {
      hist: sparse(stats.hist), seconds: Array.from(stats.seconds, (b) => b || [0, 0]),
      cursors: screens.map((s) => s.cursor), gaps: stats.gaps, disconnects: stats.disconnects,
      messages: stats.messages, chars: stats.chars,
    };
    process.stdout.write(JSON.stringify(report) + "\n", () => { closeAll(); process.exit(0); });
  }, Math.max(0, plan.check_at - Date.now()));
}

async function main() {
  try {
    await connectAll();
  } catch (err) {
    process.stderr.write(`load.js: ${err.message}\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify({ ready: screens.length }) + "\n");
  const lines = readline.createInterface({ input: process.stdin });
  let planned = false;
  lines.once("line", (line) => { planned = true; measure(JSON.parse(line)); });
  lines.once("close", () => { if (!planned) { closeAll(); process.exit(1); } }); // bench gone
}

main();
