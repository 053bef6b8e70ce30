/* Map drawing functions, called by dash-leaflet (named through dash_extensions Namespace).
 *
 * Styles (severity colour, shape, text colour, category symbols) come from Python through each
 * layer's `hideout` (dashboard/layers/style.py): nothing here repeats them. Severity is drawn by
 * colour AND shape, and named in every tooltip.
 */
window.sitroom = Object.assign({}, window.sitroom, {
  map: {
    incidentMarker: function (feature, latlng, context) {
      const p = feature.properties;
      const style = context.hideout;
      const s = style.severities[p.severity] || style.severities.unknown;
      const scale = document.querySelector(".mode-wall") ? 1.6 :
        (document.querySelector(".mode-tablet") ? 1.25 : 1);
      const size = Math.round((p.kind === "report" ? 24 : 30) * scale);
      const icon = document.createElement("span");
      icon.className = "sev-icon shape-" + s.shape;
      icon.style.setProperty("--c", s.colour);
      icon.style.setProperty("--t", s.text);
      icon.textContent = style.symbols[p.category] || "•";
      return L.marker(latlng, {
        keyboard: false, title: s.label + ": " + p.title,
        icon: L.divIcon({className: "incident-icon severity-" + s.key +
                           (p.status === "closed" ? " closed" : "") + (style.fresh ? " fresh" : ""),
                         html: icon, iconSize: [size, size]}),
      });
    },
    clusterMarker: function (feature, latlng) {
      const n = feature.properties.point_count;
      const scale = document.querySelector(".mode-wall") ? 1.5 : 1;
      const size = Math.round((n < 10 ? 34 : n < 100 ? 40 : n < 1000 ? 48 : 56) * scale);
      const label = document.createElement("span");
      label.textContent = feature.properties.point_count_abbreviated;
      return L.marker(latlng, {
        title: n + " incidents here: click to zoom in",
        icon: L.divIcon({className: "cluster-icon", html: label, iconSize: [size, size]}),
      });
    },
    unitMarker: function (feature, latlng) {
      const p = feature.properties;
      const label = document.createElement("span");
      label.textContent = p.title;
      const status = document.createElement("small");
      status.textContent = p.status;
      label.append(" ", status);
      return L.marker(latlng, {
        keyboard: false,
        icon: L.divIcon({className: "unit-icon unit-" + p.agency, html: label, iconSize: null}),
      });
    },
    alertStyle: function (feature, context) {
      const s = context.hideout.severities[feature.properties.severity] ||
        context.hideout.severities.unknown;
      const dashes = {extreme: null, severe: "12 6", moderate: "6 6", minor: "2 6"};
      return {color: s.colour, weight: 3, dashArray: dashes[s.key] || "2 10",
              fillColor: s.colour, fillOpacity: 0.12};
    },
    alertTooltip: function (feature, layer, context) {
      const p = feature.properties;
      const s = context.hideout.severities[p.severity] || context.hideout.severities.unknown;
      const text = document.createElement("div");
      text.innerText = s.label.toUpperCase() + " ALERT: " + p.title + "\n" + p.agency + " · " +
        p.marking;
      layer.bindTooltip(text, {sticky: true});
    },
    annotationStyle: function () {
      return {color: "#ff7043", weight: 3, dashArray: "8 6", fillOpacity: 0.08};
    },
    densityStyle: function (feature, context) {
      return {stroke: false, fillColor: context.hideout.shades[feature.properties.shade],
              fillOpacity: 0.6};
    },
    densityTooltip: function (feature, layer) {
      layer.bindTooltip(feature.properties.count + " incidents in this cell");
    },
    boundaryStyle: function (feature) {
      return feature.properties.kind === "extent" ?
        {color: "#546e7a", weight: 2, dashArray: "10 6", fill: false} :
        {color: "#455a64", weight: 2.5, fill: false};
    },
    landWater: function (feature, context) {
      const land = feature.properties.kind === "land";
      return {stroke: false, fillColor: land ? context.hideout.land : context.hideout.water,
              fillOpacity: 1};
    },
    streetStyle: function (feature, context) {
      const weights = {motorway: 3.5, primary: 2.5, secondary: 2, tertiary: 1.5};
      const kind = feature.properties["class"];
      return {color: kind in weights ? context.hideout.major_street : context.hideout.street,
              weight: (weights[kind] || 1.2) * 2, opacity: 1};
    },
    placeMarker: function (feature, latlng, context) {
      const kind = feature.properties.kind;
      const known = context.hideout.facilities[kind];
      const size = document.querySelector(".mode-wall") ? 34 : 22;
      return L.marker(latlng, {
        interactive: true, keyboard: false,
        icon: L.divIcon({className: "place-icon place-" + kind, html: known ? known[0] : "•",
                         iconSize: [size, size]}),
      });
    },
    placeTooltip: function (feature, layer) {
      if (feature.properties.name) { layer.bindTooltip(feature.properties.name); }
    },
    tooltip: function (feature, layer, context) {
      const p = feature.properties;
      const s = context && context.hideout && context.hideout.severities ?
        (context.hideout.severities[p.severity] || null) : null;
      const text = document.createElement("div");
      text.innerText = (s && p.kind !== "unit" ? s.label.toUpperCase() + ": " : "") + p.title +
        "\n" + (p.status ? p.status + " · " : "") + p.agency + " · " + p.marking;
      layer.bindTooltip(text);
    },
  },
});
