/* A COP screen in the browser: filters, layers, legend, list, counts, timeline, modes.
 *
 * sitroom_live.js keeps the live features (socket snapshot + deltas) and calls render() when
 * they change. Everything here runs in the browser: filtering the live feature set, splitting
 * it into layers, the legend and the timeline cost no server round trip. The layers, their
 * filters and the styles come from Python (#cop-config, dashboard/layers/).
 */
(function () {
  "use strict";
  const LIST_LENGTH = 60;
  const TIMELINE_EVERY_MS = 1000;
  const TIMELINE_BIG_EVERY_MS = 5000;
  const BIG = 2000;  // incidents above which new ones are drawn apart until the next merge
  const MERGE_MS = 30000;
  const SPANS = {"1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3};
  const PROPERTY = {categories: "category", severities: "severity", agencies: "agency",
                    statuses: "status", markings: "marking"};
  const LISTS = Object.keys(PROPERTY);

  const screen = {
    config: null, view: null, features: new Map(), drawn: {}, geodata: {}, selected: null,
    byLayer: null, fresh: new Map(), baseStale: true, dirty: false, mergedAt: 0,
    timelineAt: 0, timelineTimer: null, lastFit: null, rendered: 0, renderMs: 0,
  };
  window.sitroom = Object.assign(window.sitroom || {}, {screen: screen});

  function config() {
    if (screen.config) { return screen.config; }
    const node = document.getElementById("cop-config");
    if (!node) { return null; }
    screen.config = JSON.parse(node.dataset.config);
    screen.view = screen.config.view;
    if (screen.view.layers === null) {
      screen.view.layers = screen.config.layers.filter((l) => l.default_on).map((l) => l.key);
    }
    startMode();
    return screen.config;
  }

  // ------------------------------------------------------------ filtering

  function timeRange(view, now) {
    if (view.window === "custom") {
      return [view.start ? Date.parse(view.start) : null, view.end ? Date.parse(view.end) : null];
    }
    const span = SPANS[view.window];
    return span ? [now - span, null] : [null, null];
  }

  function featureTime(f) {
    if (f._t === undefined) { f._t = f.properties.time ? Date.parse(f.properties.time) : NaN; }
    return f._t;
  }

  /* The same rule as the layer's Python query (dashboard/layers/records.py). */
  function matcher(layer, view, now, withTime) {
    const applies = new Set(layer.filters);
    const kinds = new Set(layer.kinds);
    const [start, end] = applies.has("time") && withTime ? timeRange(view, now) : [null, null];
    const sets = [];
    for (const name of LISTS) {
      if (applies.has(name) && view[name].length) { sets.push([PROPERTY[name], new Set(view[name])]); }
    }
    return function (f) {
      const p = f.properties;
      if (!f.geometry || !kinds.has(p.kind)) { return false; }
      if (start !== null || end !== null) {
        const t = featureTime(f);
        if (start !== null && !(t >= start)) { return false; }
        if (end !== null && !(t < end)) { return false; }
      }
      for (const [prop, allowed] of sets) { if (!allowed.has(p[prop])) { return false; } }
      return true;
    };
  }

  // ------------------------------------------------------------ drawing

  /* Draw the screen. `changed` holds the ids changed since the last call (null: redo all).
   * A change costs work for what changed, not for the whole picture: each live layer keeps its
   * features by id; above BIG incidents, new ones are drawn apart (marked new) and join the
   * clustered set at the next merge, so a delta never re-indexes 100,000 points. */
  screen.render = function (features, changed) {
    if (features) { screen.features = features; }
    const cfg = config();
    if (!cfg || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    const started = performance.now();
    const full = !changed || screen.dirty;
    screen.dirty = false;
    const touched = full ? rebuild(cfg) : update(cfg, changed);
    draw(cfg, touched, full);
    growOptions(full ? screen.features.keys() : changed);
    screen.rendered += 1;
    screen.renderMs = performance.now() - started;
  };

  function liveLayers(cfg) { return cfg.layers.filter((l) => l.live && l.key !== "density"); }

  function rebuild(cfg) {
    const now = Date.now();
    const layers = liveLayers(cfg);
    const tests = layers.map((l) => matcher(l, screen.view, now, true));
    screen.byLayer = {};
    layers.forEach((l) => { screen.byLayer[l.key] = new Map(); });
    for (const f of screen.features.values()) {
      for (let i = 0; i < layers.length; i++) {
        if (tests[i](f)) { screen.byLayer[layers[i].key].set(f.id, f); break; }
      }
    }
    screen.tests = {now: now, of: Object.fromEntries(layers.map((l, i) => [l.key, tests[i]]))};
    screen.fresh = new Map();
    screen.baseStale = true;
    return new Set(cfg.layers.map((l) => l.key));
  }

  function update(cfg, changed) {
    const touched = new Set();
    for (const id of changed) {
      const f = screen.features.get(id);
      for (const [key, members] of Object.entries(screen.byLayer)) {
        const had = members.delete(id);
        if (had) { touched.add(key); }
        if (f && screen.tests.of[key](f)) {
          members.set(id, f);
          touched.add(key);
          if (key === "incidents") {
            if (had && !screen.fresh.has(id)) { screen.baseStale = true; }  // moved or changed
            screen.fresh.set(id, f);
          }
        } else if (had && key === "incidents") {
          if (!screen.fresh.delete(id)) { screen.baseStale = true; }  // gone from the base
        }
      }
    }
    if (touched.has("incidents")) { touched.add("density"); }
    return touched;
  }

  function draw(cfg, touched, full) {
    const on = new Set(screen.view.layers);
    const set = window.dash_clientside.set_props;
    const drawn = screen.drawn;
    for (const key of Object.keys(screen.byLayer)) {
      if (touched.has(key)) { drawn[key] = [...screen.byLayer[key].values()]; }
    }
    const incidents = drawn.incidents || [];
    const big = incidents.length > BIG;
    const density = cfg.layers.find((l) => l.key === "density");
    if (density && touched.has("density") && !(full || !big || !drawn.density)) {
      touched.delete("density");  // at scale the grid is rebuilt with the next merge
    } else if (density && touched.has("density")) {
      drawn.density = grid(incidents, density);
    }
    for (const layer of cfg.layers) {
      if (!layer.live) {
        if (on.has(layer.key) && !screen.geodata[layer.key]) { loadGeodata(layer); }
        drawn[layer.key] = screen.geodata[layer.key] || [];
      }
      if (!touched.has(layer.key)) { continue; }
      if (layer.key === "incidents") { drawIncidents(layer, on.has(layer.key), big); continue; }
      set(layer.id, {data: collection(on.has(layer.key) ? drawn[layer.key] : [])});
    }
    renderLegend(cfg, drawn, on);
    renderCounts(incidents);
    renderList(incidents);
    if (cfg.mode === "wall") { renderWallLists(drawn); }
    renderWindowLabel(screen.view);
    scheduleTimeline(big);
    if (cfg.mode === "wall" && incidents.length && !insideFit(incidents)) { fitToActivity(); }
  }

  /* Whether every incident lies inside the wall's last fit (new activity elsewhere re-fits at
   * once; otherwise the wall re-fits on its own cadence, so a busy room does not see it jump). */
  function insideFit(incidents) {
    const fit = screen.lastFit && JSON.parse(screen.lastFit);
    if (!fit) { return false; }
    const [[s, w], [n, e]] = fit;
    return incidents.every((f) => {
      if (f.geometry.type !== "Point") { return true; }
      const [lon, lat] = f.geometry.coordinates;
      return lat >= s && lat <= n && lon >= w && lon <= e;
    });
  }

  /* The clustered set is re-indexed only when it must be; new incidents go to the `new` layer. */
  function drawIncidents(layer, on, big) {
    const set = window.dash_clientside.set_props;
    if (!on) {
      set(layer.id, {data: collection([])});
      set(layer.id + "-new", {data: collection([])});
      screen.baseStale = true;
      return;
    }
    if (!big || screen.baseStale) {
      screen.fresh = new Map();
      screen.baseStale = false;
      set(layer.id, {data: collection(screen.drawn.incidents)});
      set(layer.id + "-new", {data: collection([])});
      screen.mergedAt = Date.now();
    } else {
      set(layer.id + "-new", {data: collection([...screen.fresh.values()])});
    }
  }

  /* The category, agency and status filters offer what the live picture holds (and what the
   * URL asked for), growing as new values arrive. */
  function growOptions(ids) {
    if (!document.getElementById("filter-categories")) { return; }
    const known = screen.options || (screen.options = {categories: new Set(), agencies: new Set(),
                                                       statuses: new Set()});
    if (!screen.optionKinds) {  // only kinds of the layers that filter by it
      screen.optionKinds = Object.fromEntries(Object.keys(known).map((name) => [name, new Set(
        screen.config.layers.filter((l) => l.filters.includes(name)).flatMap((l) => l.kinds))]));
    }
    const grown = new Set();
    for (const id of ids) {
      const f = screen.features.get(id);
      if (!f) { continue; }
      for (const name of Object.keys(known)) {
        if (!screen.optionKinds[name].has(f.properties.kind)) { continue; }
        const value = f.properties[PROPERTY[name]];
        if (value && !known[name].has(value)) { known[name].add(value); grown.add(name); }
      }
    }
    for (const name of grown) {
      const values = [...new Set([...known[name], ...screen.view[name]])].sort();
      window.dash_clientside.set_props("filter-" + name,
        {options: values.map((v) => ({label: v, value: v}))});
    }
  }

  function collection(features) { return {type: "FeatureCollection", features: features}; }

  function rerender() { screen.dirty = true; screen.render(null, new Set()); }

  /* Every MERGE_MS: new incidents join the clusters, relative windows move on, the grid catches up. */
  function merge() {
    if (screen.config && screen.byLayer) { rerender(); }
  }

  function loadGeodata(layer) {
    screen.geodata[layer.key] = [];
    fetch("/api/v1/layers/" + layer.key).then((r) => r.json()).then((fc) => {
      screen.geodata[layer.key] = fc.features;
      rerender();
    }).catch(() => { delete screen.geodata[layer.key]; });
  }

  /* The density grid: the same cells and shades as dashboard/layers/density.py. */
  function grid(points, layer) {
    let w0 = 180, e0 = -180, s0 = 90, n0 = -90;
    for (const f of points) {
      if (f.geometry.type !== "Point") { continue; }
      const [lon, lat] = f.geometry.coordinates;
      if (lon < w0) { w0 = lon; } if (lon > e0) { e0 = lon; }
      if (lat < s0) { s0 = lat; } if (lat > n0) { n0 = lat; }
    }
    let k = 1;
    while ((e0 - w0) / (layer.cell[0] * k) > layer.max_cells ||
           (n0 - s0) / (layer.cell[1] * k) > layer.max_cells) { k *= 2; }
    const [dx, dy] = [layer.cell[0] * k, layer.cell[1] * k];
    const counts = new Map();
    for (const f of points) {
      if (f.geometry.type !== "Point") { continue; }
      const [lon, lat] = f.geometry.coordinates;
      const key = Math.floor(lon / dx) + ":" + Math.floor(lat / dy);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    let top = 1;
    for (const n of counts.values()) { top = Math.max(top, n); }
    const cells = [];
    for (const [key, count] of counts) {
      const [i, j] = key.split(":").map(Number);
      const w = i * dx, s = j * dy, e = w + dx, n = s + dy;
      cells.push({type: "Feature", id: "cell:" + key, properties: {count: count,
        shade: Math.min(layer.shades - 1, Math.max(0, Math.ceil(4 * count / top) - 1))},
        geometry: {type: "Polygon", coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}});
    }
    return cells;
  }

  function renderLegend(cfg, drawn, on) {
    for (const layer of cfg.layers) {
      const section = document.querySelector('#cop-legend [data-layer="' + layer.key + '"]');
      if (!section) { continue; }
      section.hidden = !on.has(layer.key);
      const counts = {};
      for (const f of drawn[layer.key] || []) {
        const key = String(f.properties[layer.styled_by]);
        counts[key] = (counts[key] || 0) + 1;
      }
      for (const entry of section.querySelectorAll("[data-key]")) {
        const key = entry.dataset.key;
        if (key === "cluster") {
          entry.hidden = !document.querySelector("#cop-map .cluster-icon");
          continue;
        }
        entry.hidden = !counts[key];
        entry.querySelector(".legend-count").textContent = counts[key] || "";
      }
      section.classList.toggle("empty", !(drawn[layer.key] || []).length);
    }
  }

  function renderCounts(incidents) {
    const counts = {};
    for (const f of incidents) {
      if (f.properties.status === "closed") { continue; }
      counts[f.properties.severity] = (counts[f.properties.severity] || 0) + 1;
    }
    const box = document.getElementById("cop-counts");
    if (!box) { return; }
    const severities = Object.values(screen.config.style.severities).filter((s) => s.key !== "unknown");
    box.replaceChildren(...severities.map((s) => {
      const item = element("span", "count severity-" + s.key);
      item.append(swatch(s), (counts[s.key] || 0) + " " + s.key);
      return item;
    }));
  }

  function swatch(s) {
    const node = element("span", "swatch sev-icon shape-" + s.shape);
    node.style.setProperty("--c", s.colour);
    node.style.setProperty("--t", s.text);
    return node;
  }

  function rank(f) {
    if (!screen.ranks) {
      screen.ranks = Object.fromEntries(Object.keys(screen.config.style.severities).map((k, i) => [k, i]));
    }
    const r = screen.ranks[f.properties.severity];
    return r === undefined ? 99 : r;
  }

  function bySeverityThenTime(a, b) {
    return (rank(a) - rank(b)) || (b.properties.time || "").localeCompare(a.properties.time || "");
  }

  function renderList(incidents) {
    const list = document.getElementById("cop-list");
    if (!list) { return; }
    const open = incidents.filter((f) => f.properties.status !== "closed");
    // partial sort: only the top LIST_LENGTH are shown
    const top = open.length > 1000 ? topOf(open, LIST_LENGTH) : open.sort(bySeverityThenTime);
    list.replaceChildren(...top.slice(0, LIST_LENGTH).map(listItem));
  }

  function topOf(items, n) {
    const best = [];
    for (const f of items) {
      if (best.length < n || bySeverityThenTime(f, best[best.length - 1]) < 0) {
        let i = best.length;  // insertion into the sorted few
        while (i > 0 && bySeverityThenTime(f, best[i - 1]) < 0) { i--; }
        best.splice(i, 0, f);
        if (best.length > n) { best.pop(); }
      }
    }
    return best;
  }

  function listItem(f) {
    const p = f.properties;
    const s = screen.config.style.severities[p.severity] || screen.config.style.severities.unknown;
    const item = element("li", "incident severity-" + s.key + (screen.selected === f.id ? " selected" : ""));
    item.dataset.id = f.id;
    item.tabIndex = 0;
    const label = element("span", "severity-label");
    label.append(swatch(s), " " + s.key.toUpperCase());
    item.append(label, element("span", "title", p.title || p.category),
      element("span", "meta", p.agency + " · " + clock(p.time) + " · " + p.category),
      element("span", "marking marking-" + markingClass(p.marking), p.marking));
    return item;
  }

  function renderWallLists(drawn) {
    const alerts = document.getElementById("cop-alert-list");
    if (alerts) {
      alerts.replaceChildren(...(drawn.alerts || []).slice().sort(bySeverityThenTime)
        .slice(0, 8).map(listItem));
    }
    const units = document.getElementById("cop-unit-list");
    if (units) {
      units.replaceChildren(...(drawn.units || []).slice()
        .sort((a, b) => a.properties.title.localeCompare(b.properties.title)).slice(0, 12)
        .map((f) => {
          const item = element("li", "unit unit-" + f.properties.agency);
          item.append(element("span", "callsign", f.properties.title),
            element("span", "status status-" + f.properties.status, f.properties.status),
            element("span", "meta", f.properties.agency));
          return item;
        }));
    }
  }

  function renderWindowLabel(view) {
    const node = document.getElementById("cop-window");
    if (!node) { return; }
    const labels = {"1h": "last hour", "6h": "last 6 h", "24h": "last 24 h", all: "all time"};
    node.textContent = view.window === "custom" ?
      (view.start ? shortTime(view.start) : "…") + " – " + (view.end ? shortTime(view.end) : "now") + " UTC" :
      labels[view.window];
  }

  // ------------------------------------------------------------ timeline

  function scheduleTimeline(big) {
    if (screen.timelineTimer) { return; }
    const every = big ? TIMELINE_BIG_EVERY_MS : TIMELINE_EVERY_MS;
    const wait = Math.max(0, screen.timelineAt + every - Date.now());
    screen.timelineTimer = setTimeout(() => {
      screen.timelineTimer = null;
      screen.timelineAt = Date.now();
      renderTimeline();
    }, wait);
  }

  /* Incidents and alerts over time (filters applied except the time window, which is shaded). */
  function renderTimeline() {
    const cfg = screen.config;
    const graph = document.getElementById("cop-timeline");
    if (!graph) { return; }
    const now = Date.now();
    const view = screen.view;
    const series = {incidents: [], alerts: []};
    for (const key of Object.keys(series)) {
      const layer = cfg.layers.find((l) => l.key === key);
      const test = matcher(layer, view, now, false);
      for (const f of screen.features.values()) {
        if (test(f) && !isNaN(featureTime(f))) { series[key].push(featureTime(f)); }
      }
    }
    let lo = now - 3600e3, hi = now;  // the data's extent, at least the last hour
    for (const key of Object.keys(series)) {
      for (const t of series[key]) { if (t < lo) { lo = t; } }
    }
    const [start, end] = timeRange(view, now);
    const bins = 60, width = Math.max(60e3, Math.ceil((hi - lo) / bins / 60e3) * 60e3);
    lo = Math.floor(lo / width) * width;
    const dark = cfg.mode === "wall";
    const per = " per " + Math.round(width / 60e3) + " min";
    const traces = [["incidents", "Incidents" + per, "#4fc3f7"], ["alerts", "Alerts" + per, "#ffb74d"]]
      .map(([key, name, colour]) => {
        const counts = new Map();
        for (const t of series[key]) {
          const b = lo + Math.floor((t - lo) / width) * width;
          counts.set(b, (counts.get(b) || 0) + 1);
        }
        const xs = [...counts.keys()].sort((a, b) => a - b);
        return {type: "bar", name: name, x: xs.map(utc), y: xs.map((x) => counts.get(x)),
                marker: {color: colour}, width: width * 0.9, hovertemplate: "%{y} " + key + "<extra></extra>"};
      });
    const shapes = [];
    if (start !== null || end !== null) {
      shapes.push({type: "rect", xref: "x", yref: "paper", x0: utc(Math.max(start ?? lo, lo)),
                   x1: utc(Math.min(end ?? hi, hi)),
                   y0: 0, y1: 1, fillcolor: "#90caf9", opacity: 0.18, line: {width: 0}});
    }
    const selected = screen.selected && screen.features.get(screen.selected);
    if (selected && !isNaN(featureTime(selected))) {
      shapes.push({type: "line", xref: "x", yref: "paper", x0: utc(featureTime(selected)),
                   x1: utc(featureTime(selected)), y0: 0, y1: 1, line: {color: "#ff4081", width: 3}});
    }
    const figure = {data: traces, layout: {
      barmode: "stack", dragmode: cfg.mode === "wall" ? false : "select", selectdirection: "h",
      margin: {l: dark ? 60 : 40, r: 12, t: 8, b: dark ? 40 : 30}, paper_bgcolor: "#151b21", plot_bgcolor: "#151b21",
      font: {color: "#eceff1", size: dark ? 22 : 13}, showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.15}, shapes: shapes, uirevision: "timeline",
      xaxis: {type: "date", range: [utc(lo), utc(hi + width)], gridcolor: "#2c3640",
              ticksuffix: dark ? "" : " UTC"},
      yaxis: {gridcolor: "#2c3640", fixedrange: true},
      annotations: selected ? [{x: utc(featureTime(selected)), y: 1, yref: "paper",
        text: selected.properties.title, showarrow: false, font: {color: "#ff80ab"}, yanchor: "bottom"}] : [],
    }};
    window.dash_clientside.set_props("cop-timeline", {figure: figure});
  }

  // ------------------------------------------------------------ view and URL

  function setView(view) {
    screen.view = view;
    const params = new URLSearchParams(window.location.search);
    params.set("window", view.window);
    for (const name of ["from", "to"]) { params.delete(name); }
    if (view.window === "custom") {
      if (view.start) { params.set("from", view.start); }
      if (view.end) { params.set("to", view.end); }
    }
    for (const name of LISTS) {
      if (view[name].length) { params.set(name, view[name].join(",")); } else { params.delete(name); }
    }
    params.set("layers", view.layers.join(","));
    const url = window.location.pathname + "?" + params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
    window.history.replaceState(null, "", url);
    screen.timelineAt = 0;
    rerender();
  }

  screen.select = function (id) {
    screen.selected = id;
    for (const node of document.querySelectorAll("#cop-list .incident")) {
      node.classList.toggle("selected", node.dataset.id === id);
    }
    screen.timelineAt = 0;
    scheduleTimeline();
    if (id && screen.config.mode === "tablet") { openDrawer("drawer-side"); }
  };

  function fromLocalInput(value) {  // datetime-local, read as UTC
    return value ? new Date(value + (value.length === 16 ? ":00" : "") + "Z").toISOString().replace(".000Z", "Z") : null;
  }

  function toLocalInput(ms) { return new Date(ms).toISOString().slice(0, 16); }

  const clientside = {
    controls: function (layers, window_, from, to, categories, severities, agencies, statuses, markings) {
      const cfg = config();
      const view = {window: window_ || "24h", start: null, end: null, layers: layers || [],
                    categories: categories || [], severities: severities || [],
                    agencies: agencies || [], statuses: statuses || [], markings: markings || [],
                    bbox: null};
      if (view.window === "custom") { view.start = fromLocalInput(from); view.end = fromLocalInput(to); }
      if (cfg) { setView(view); }
      return view;
    },
    clear: function () { return [[], [], [], [], [], "24h"]; },
    timelineSpan: function (selected) {
      const nu = window.dash_clientside.no_update;
      if (!selected || !selected.range || !selected.range.x) { return [nu, nu, nu]; }
      const [a, b] = selected.range.x.map((x) => Date.parse(x.replace(" ", "T") + "Z"));
      return ["custom", toLocalInput(Math.floor(a / 60e3) * 60e3), toLocalInput(Math.ceil(b / 60e3) * 60e3)];
    },
    mapClick: function (feature) {
      if (!feature || !feature.properties || feature.properties.cluster) {
        return window.dash_clientside.no_update;
      }
      screen.select(feature.id);
      return feature.id;
    },
  };
  window.dash_clientside = Object.assign({}, window.dash_clientside, {screen: clientside});

  // ------------------------------------------------------------ modes

  function startMode() {
    const cfg = screen.config;
    document.addEventListener("click", onClick);
    if (cfg.mode === "wall") {
      rotatePanels(cfg.rotate_seconds);
      setInterval(fitToActivity, cfg.fit_seconds * 1000);
    }
    setInterval(() => renderLegend(cfg, screen.drawn, new Set(screen.view.layers)), 1000);
    setInterval(merge, MERGE_MS);
  }

  function onClick(event) {
    const drawerButton = event.target.closest("[data-drawer]");
    if (drawerButton) { openDrawer(drawerButton.dataset.drawer, true); return; }
    const item = event.target.closest("#cop-list .incident");
    if (item && screen.config.mode !== "wall") {
      screen.select(item.dataset.id);
      window.dash_clientside.set_props("cop-selected", {data: item.dataset.id});
    }
  }

  function openDrawer(id, toggle) {
    for (const drawer of document.querySelectorAll(".drawer")) {
      const open = drawer.id === id && !(toggle && drawer.classList.contains("open"));
      drawer.classList.toggle("open", open);
      const button = document.querySelector('[data-drawer="' + drawer.id + '"]');
      if (button) { button.setAttribute("aria-expanded", String(open)); }
    }
  }

  function rotatePanels(seconds) {
    const panels = [...document.querySelectorAll(".mode-wall .panel")];
    let current = 0;
    const show = () => panels.forEach((p, i) => p.classList.toggle("active", i === current));
    show();
    setInterval(() => { current = (current + 1) % panels.length; show(); }, seconds * 1000);
  }

  /* The wall follows the activity: every incident it draws (in the view's window), else the city. */
  function fitToActivity() {
    const cfg = screen.config;
    const chosen = (screen.drawn.incidents || []).filter((f) => f.geometry.type === "Point");
    let bounds = cfg.city_bounds;
    if (chosen.length) {
      let s = 90, w = 180, n = -90, e = -180;
      for (const f of chosen) {
        const [lon, lat] = f.geometry.coordinates;
        s = Math.min(s, lat); n = Math.max(n, lat); w = Math.min(w, lon); e = Math.max(e, lon);
      }
      // a margin, and never closer than about 1.5 km across: the wall shows a neighbourhood
      const padLat = Math.max(0.002, (0.014 - (n - s)) / 2);
      const padLon = Math.max(0.004, (0.028 - (e - w)) / 2);
      bounds = [[s - padLat, w - padLon], [n + padLat, e + padLon]];
    }
    const key = JSON.stringify(bounds);
    if (key === screen.lastFit) { return; }
    screen.lastFit = key;
    window.dash_clientside.set_props("cop-map", {viewport: {bounds: bounds, transition: "flyToBounds"}});
  }
  screen.fitToActivity = fitToActivity;

  // ------------------------------------------------------------ helpers

  function clock(iso) {  // the room's local time on a 24-hour clock, as operations logs use
    const options = {hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
    return iso ? new Date(iso).toLocaleTimeString([], options) : "";
  }

  function shortTime(iso) { return new Date(iso).toISOString().slice(5, 16).replace("T", " "); }

  function utc(ms) { return new Date(ms).toISOString().replace("Z", ""); }

  function markingClass(label) { return label.replace("TLP:", "").replace("+", "_").toLowerCase(); }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
})();
