/* Map styling functions, called by dash-leaflet (named through dash_extensions Namespace). */
window.sitroom = Object.assign({}, window.sitroom, {
  map: {
    incidentMarker: function (feature, latlng, context) {
      // Colour by severity, a symbol by category (DejaVu Sans has every glyph used here).
      const symbols = {fire: "F", medical: "✚", cbrn: "☢", security: "!", intelligence: "◉",
                       "public-order": "⚑", transport: "⚓", maritime: "⚓", flood: "≈",
                       "storm-damage": "⚡", traffic: "▲", search: "?"};
      const p = feature.properties;
      const colour = context.hideout.colours[p.severity] || "#9e9e9e";
      const size = p.kind === "report" ? 18 : 24;
      const html = '<span style="background:' + colour + '">' +
        (symbols[p.category] || "•") + "</span>";
      return L.marker(latlng, {
        keyboard: false,
        icon: L.divIcon({className: "incident-icon" + (p.status === "closed" ? " closed" : ""),
                         html: html, iconSize: [size, size]}),
      });
    },
    unitMarker: function (feature, latlng) {
      const p = feature.properties;
      return L.marker(latlng, {
        icon: L.divIcon({className: "unit-icon unit-" + p.agency, html: p.title,
                         iconSize: null}),
      });
    },
    areaStyle: function (feature, context) {
      const p = feature.properties;
      if (p.kind === "annotation") {
        return {color: "#d9480f", weight: 2, dashArray: "6 4", fillOpacity: 0.08};
      }
      const colour = context.hideout.colours[p.severity] || "#9e9e9e";
      return {color: colour, weight: 2, fillColor: colour, fillOpacity: 0.12};
    },
    landWater: function (feature) {
      const land = feature.properties.kind === "land";
      return {stroke: false, fillColor: land ? "#f2efe9" : "#aad3df", fillOpacity: 1};
    },
    streetStyle: function (feature) {
      const weights = {motorway: 3.5, primary: 2.5, secondary: 2, tertiary: 1.5};
      const major = feature.properties["class"] in weights;
      return {color: major ? "#fcd6a4" : "#ffffff", weight: (weights[feature.properties["class"]] || 1.2) * 2,
              opacity: 1};
    },
    placeMarker: function (feature, latlng) {
      const symbols = {hospital: "H", police: "P", fire_station: "F", port: "⚓"};
      const kind = feature.properties.kind;
      return L.marker(latlng, {
        interactive: true, keyboard: false,
        icon: L.divIcon({className: "place-icon place-" + kind,
                         html: symbols[kind] || "•", iconSize: [18, 18]}),
      });
    },
    placeTooltip: function (feature, layer) {
      if (feature.properties.name) { layer.bindTooltip(feature.properties.name); }
    },
    tooltip: function (feature, layer) {
      const p = feature.properties;
      const text = document.createElement("div");
      text.innerText = p.title + "\n" + p.agency + " · " + p.marking;
      layer.bindTooltip(text);
    },
  },
});
