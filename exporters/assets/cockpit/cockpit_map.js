/* The cockpit's exported map: builds its layers from the JSON data block.
 *
 * Every text that comes from an extract reaches the page through textContent or
 * a text node, never through innerHTML, so a name like "<script>" shows as text.
 * Point symbols are drawn on one canvas (thousands of hazards stay fast).
 * Part of the cockpit; same licence as the cockpit.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function card(title, rows) {
    var box = el("div", "ck-card");
    box.appendChild(el("div", "ck-card-title", title));
    var table = el("table");
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  // Symbols of layers/styles.py: o circle, s square, t triangle, d diamond, h hexagon, star.
  function symbolPath(ctx, s, x, y, r) {
    var i, a;
    if (s === "s") {
      ctx.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
    } else if (s === "t") {
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.1, y + r * 0.8);
      ctx.lineTo(x - r * 1.1, y + r * 0.8);
      ctx.closePath();
    } else if (s === "d") {
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.2, y);
      ctx.lineTo(x, y + r * 1.2);
      ctx.lineTo(x - r * 1.2, y);
      ctx.closePath();
    } else if (s === "h") {
      for (i = 0; i < 6; i++) {
        a = Math.PI / 3 * i;
        if (i === 0) { ctx.moveTo(x + r * Math.cos(a), y + r * Math.sin(a)); }
        else { ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a)); }
      }
      ctx.closePath();
    } else if (s === "star") {
      for (i = 0; i < 10; i++) {
        a = -Math.PI / 2 + Math.PI / 5 * i;
        var rr = (i % 2 === 0) ? r * 1.35 : r * 0.6;
        if (i === 0) { ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a)); }
        else { ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)); }
      }
      ctx.closePath();
    } else {
      ctx.arc(x, y, r, 0, Math.PI * 2, false);
    }
  }

  L.Canvas.include({
    _updateCockpitSymbol: function (layer) {
      if (!this._drawing || layer._empty()) { return; }
      var p = layer._point, ctx = this._ctx;
      ctx.beginPath();
      symbolPath(ctx, layer.options.symbol, p.x, p.y, Math.max(layer._radius, 1));
      this._fillStroke(ctx, layer);
    }
  });

  var SymbolMarker = L.CircleMarker.extend({
    options: { symbol: "o" },
    _updatePath: function () { this._renderer._updateCockpitSymbol(this); }
  });

  function fmt(n, lang) {
    return Number(n).toLocaleString(lang === "zh" ? "zh-CN" : "en-US");
  }

  // leaflet.heat sums the weights of the points in each cell of r/2 pixels and
  // divides them by 2^(maxZoom - zoom); simpleheat then stacks one blurred disc per
  // cell, so a pixel's ink is about the kernel-smoothed sum S of the cells around
  // it, over "max". Anchoring maxZoom at the opening view and taking max from a
  // high quantile of S there keeps hot spots apart on any screen and at any count
  // (a plain quantile of the cell sums saturates a dense region).
  function heatMax(points, map, H) {
    var cell = H.radius / 2, size = map.getSize();
    var nx = Math.ceil(size.x / cell) + 1, ny = Math.ceil(size.y / cell) + 1;
    var sums = new Float64Array(nx * ny), i, j, p, cx, cy;
    for (i = 0; i < points.length; i++) {
      p = map.latLngToContainerPoint([points[i][0], points[i][1]]);
      cx = Math.floor(p.x / cell);
      cy = Math.floor(p.y / cell);
      if (cx >= 0 && cy >= 0 && cx < nx && cy < ny) { sums[cy * nx + cx] += points[i][2]; }
    }
    var sigma = (H.radius + H.blur) / 2.5 / cell, reach = Math.ceil(2.5 * sigma);
    var kernel = [];
    for (j = -reach; j <= reach; j++) {
      for (i = -reach; i <= reach; i++) {
        kernel.push([i, j, Math.exp(-(i * i + j * j) / (2 * sigma * sigma))]);
      }
    }
    var smooth = new Float64Array(nx * ny), k, x, y, v;
    for (y = 0; y < ny; y++) {
      for (x = 0; x < nx; x++) {
        v = sums[y * nx + x];
        if (!v) { continue; }
        for (k = 0; k < kernel.length; k++) {
          cx = x + kernel[k][0];
          cy = y + kernel[k][1];
          if (cx >= 0 && cy >= 0 && cx < nx && cy < ny) { smooth[cy * nx + cx] += v * kernel[k][2]; }
        }
      }
    }
    var inked = Array.prototype.filter.call(smooth, function (w) { return w > 0; });
    inked.sort(function (a, b) { return a - b; });
    return inked.length ? Math.max(inked[Math.floor(H.max_quantile * (inked.length - 1))], 1e-6)
                        : 1;
  }

  // A map in a hidden tab or a page without a view has no size: heat can neither
  // draw (a 0-wide canvas) nor be calibrated, and a fit would pick a wrong zoom.
  if (L.HeatLayer) {  // only inlined when the page has a heat map
    L.HeatLayer.include({
      _ckRedraw: L.HeatLayer.prototype._redraw,
      _redraw: function () {
        var size = this._map && this._map.getSize();
        if (!size || size.x === 0 || size.y === 0) { this._frame = null; return; }
        this._ckRedraw();
      }
    });
  }

  function whenSized(map, fn) {
    var size = map.getSize();
    if (size.x > 0 && size.y > 0) { fn(); return; }
    map.once("resize", function () { whenSized(map, fn); });
  }

  function addHeat(D, group, map) {
    var H = D.heat;
    group.addLayer(L.heatLayer(H.points, {
      radius: H.radius, blur: H.blur, minOpacity: H.min_opacity, maxZoom: map.getZoom(),
      max: heatMax(H.points, map, H) * H.max_factor,
      gradient: H.gradient
    }));
  }

  function addCluster(D, group) {
    var C = D.cluster, T = D.text;
    var mc = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false,
                                    maxClusterRadius: 50 });
    var markers = [];
    for (var i = 0; i < C.id.length; i++) {
      var dot = el("span", "ck-dot");
      dot.style.background = C.colors[C.category[i]] || C.colors.other;
      var m = L.marker([C.lat[i], C.lon[i]], {
        icon: L.divIcon({ className: "ck-dot-icon", html: dot, iconSize: [12, 12] })
      });
      m.bindTooltip(card(C.labels[C.category[i]] || C.category[i], [
        [T.id, C.id[i]], [T.time, C.time[i]]
      ]));
      markers.push(m);
    }
    mc.addLayers(markers);
    group.addLayer(mc);
    return markers.length;
  }

  function addResources(D, groups) {
    var R = D.resources, S = D.style.resources, T = D.text, R0 = D.renderer;
    var n = 0;
    // One tooltip and one popup function for all markers: built on demand, from text.
    function tip(layer) {
      var j = layer.ckIndex;
      return el("span", null, (S[R.kind[j]] || S.other).label + " · " + (R.name[j] || R.id[j]));
    }
    function popup(layer) {
      var j = layer.ckIndex;
      return card(R.name[j] || R.id[j], [
        [T.kind, (S[R.kind[j]] || S.other).label], [T.id, R.id[j]],
        [T.available, R.available[j] ? T.yes : T.no],
        [T.headcount, R.headcount[j]], [T.phone, R.phone[j]]
      ]);
    }
    for (var i = 0; i < R.id.length; i++) {
      var kind = R.kind[i], st = S[kind] || S.other, on = R.available[i];
      var target = groups[kind] || groups.other;
      if (!target) { continue; }
      var m = new SymbolMarker([R.lat[i], R.lon[i]], {
        renderer: R0, symbol: st.symbol, radius: st.radius,
        fillColor: st.color, fillOpacity: on ? 0.95 : st.unavailable_opacity,
        color: on ? "#ffffff" : "#808080", weight: 1, opacity: on ? 0.9 : 0.4
      });
      m.ckIndex = i;
      m.bindTooltip(tip);
      m.bindPopup(popup);
      target.addLayer(m);
      n++;
    }
    return n;
  }

  function addHazards(D, group) {
    var H = D.hazards, S = D.style.hazards, T = D.text, R0 = D.renderer;
    function tip(layer) {
      var j = layer.ckIndex;
      return el("span", null, (H.name[j] || H.id[j]) + " · " + S.state_label[H.state[j]]);
    }
    function popup(layer) {
      var j = layer.ckIndex;
      return card(H.name[j] || H.id[j], [
        [T.id, H.id[j]], [T.category, S.category_label[H.category[j]] || H.category[j]],
        [T.risk, S.risk_label[H.risk_level[j]] || H.risk_level[j]],
        [T.state, S.state_label[H.state[j]] || H.state[j]],
        [T.overdue, H.overdue[j] ? T.yes : T.no]
      ]);
    }
    for (var i = 0; i < H.id.length; i++) {
      var overdue = H.overdue[i];
      var m = new SymbolMarker([H.lat[i], H.lon[i]], {
        renderer: R0, symbol: S.symbol[H.category[i]] || "o",
        radius: S.radius[H.risk_level[i]] || S.radius.other,
        fillColor: S.color[H.state[i]] || S.color_other, fillOpacity: 0.92,
        color: overdue ? S.overdue_color : "#ffffff", weight: overdue ? 2 : 0.8, opacity: 0.9
      });
      m.ckIndex = i;
      m.bindTooltip(tip);
      m.bindPopup(popup);
      group.addLayer(m);
    }
    return H.id.length;
  }

  // The command centre's annotations (标注): zones, lines and markers with their note.
  function addAnnotations(D, group) {
    var A = D.annotations, R0 = D.renderer;
    A.items.forEach(function (a) {
      var ll = a.points.map(function (p) { return [p[1], p[0]]; });
      var color = A.colors[a.purpose] || A.colors.other, layer;
      if (a.kind === "polygon") {
        layer = L.polygon(ll, { renderer: R0, color: color, weight: 2.5, fillColor: color,
                                fillOpacity: 0.22 });
      } else if (a.kind === "line") {
        layer = L.polyline(ll, { renderer: R0, color: color, weight: 3.5 });
      } else {
        layer = new SymbolMarker(ll[0], { renderer: R0, symbol: A.symbols[a.purpose] || "d",
                                          radius: 8, fillColor: color, fillOpacity: 0.95,
                                          color: "#ffffff", weight: 1.5 });
      }
      layer.bindTooltip(card(A.labels[a.purpose] || a.purpose, [
        [A.words.note, a.note], [A.words.who, a.who], [A.words.when, a.when]]));
      group.addLayer(layer);
      if (a.note) {
        var marker = a.kind === "marker";  // a marker's note above it, not on it
        group.addLayer(L.tooltip({ permanent: true, interactive: false,
                                   direction: marker ? "top" : "center",
                                   offset: marker ? [0, -10] : [0, 0],
                                   className: "ck-ann-label" })
          .setLatLng([a.anchor[1], a.anchor[0]]).setContent(document.createTextNode(a.note)));
      }
    });
    return A.items.length;
  }

  function addAreas(D, level, group, lang) {
    var A = D.areas[level], T = D.text;
    if (!A) { return 0; }
    var layer = L.geoJSON(A.geojson, {
      renderer: D.renderer,
      style: A.style,
      onEachFeature: function (f, lyr) {
        lyr.bindTooltip(function () {
          return card(f.properties.name, [[T.incidents, fmt(f.properties.count, lang)]]);
        }, { sticky: true });
        lyr.on("mouseover", function () { lyr.setStyle({ weight: A.style.weight * 2 }); });
        lyr.on("mouseout", function () { layer.resetStyle(lyr); });
      }
    });
    group.addLayer(layer);
    if (A.labels) {
      A.labels.forEach(function (lab) {
        group.addLayer(L.tooltip({ permanent: true, direction: "center", interactive: false,
                                   className: "ck-area-label ck-area-label-" + level })
          .setLatLng([lab[1], lab[0]]).setContent(document.createTextNode(lab[2])));
      });
    }
    return A.geojson.features.length;
  }

  // map: the Leaflet map; groups: the feature groups of the layer control; D: the data.
  window.cockpitMap = function (map, groups, D) {
    // Without a tile layer the map has no zoom limits; clustering needs them.
    if (map.options.maxZoom === undefined) { map.setMaxZoom(19); }
    if (map.options.minZoom === undefined) { map.setMinZoom(3); }
    // One canvas above the heat layer for areas and symbols: a second canvas on top
    // would swallow the mouse events of the first (no tooltips on the areas).
    map.createPane("ckShapes").style.zIndex = 450;
    D.renderer = L.canvas({ pane: "ckShapes", padding: 0.5 });
    var drawn = { heat_cells: 0, incident_markers: 0, resources: 0, hazards: 0, towns: 0,
                  villages: 0, counties: 0, annotations: 0 };
    if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
    if (groups.counties) { drawn.counties = addAreas(D, "county", groups.counties, D.lang); }
    if (groups.villages) { drawn.villages = addAreas(D, "village", groups.villages, D.lang); }
    if (groups.towns) { drawn.towns = addAreas(D, "town", groups.towns, D.lang); }
    if (D.cluster && groups.situation) {
      drawn.incident_markers = addCluster(D, groups.situation);
    }
    if (D.hazards && groups.hazards) { drawn.hazards = addHazards(D, groups.hazards); }
    if (D.resources && groups.resources) { drawn.resources = addResources(D, groups.resources); }
    if (D.annotations && groups.annotations) {
      drawn.annotations = addAnnotations(D, groups.annotations);
    }
    var heat = D.heat && groups.situation;
    if (heat) { drawn.heat_cells = D.heat.points.length; }
    whenSized(map, function () {
      if (D.bounds) { map.fitBounds(D.bounds, { animate: false }); }
      if (heat) { addHeat(D, groups.situation, map); }
    });
    // For the cockpit's own checks (and a curious analyst's console).
    window.cockpit = { map: map, groups: groups, data: D, drawn: drawn };
    return drawn;
  };
}());
