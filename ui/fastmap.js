// Canvas choropleth of many units (the national commune map), a Streamlit v2 component.
//
// Geometry comes once from a static binary file (territorial/geo/binmap.py, DTG2), kept by the
// browser's cache and by this module; each rerun only sends one class, value and rank per
// unit (ui/fastmap.py). Paths are built once in Web Mercator radians and drawn through the
// canvas transform, so zooming and panning only redraw.
//
// Texts are shown with textContent only: names and labels arrive made inert (numeric
// character references, territorial.text.safetext.inert), which `plain` turns back into
// characters without any HTML parsing.

const geometryCache = new Map(); // url -> Promise of parsed geometry
const states = new WeakMap(); // parentElement -> state of one map

function plain(text) {
  return String(text ?? "").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)));
}

function parseGeometry(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== "DTG2") throw new Error("bad map file");
  const view = new DataView(buffer);
  const nUnits = view.getUint32(4, true);
  const nRings = view.getUint32(8, true);
  const nPoints = view.getUint32(12, true);
  let offset = 16;
  const unitRings = new Uint32Array(buffer, offset, nUnits + 1);
  offset += 4 * (nUnits + 1);
  const ringPoints = new Uint32Array(buffer, offset, nRings + 1);
  offset += 4 * (nRings + 1);
  // Integer steps of 1e-4 degrees, restarting at each ring, to Web Mercator radians
  // (y downwards).
  const deltas = new Int32Array(buffer, offset, 2 * nPoints);
  const xy = new Float64Array(2 * nPoints);
  const degrees = Math.PI / 180 / 1e4;
  for (let r = 0; r < nRings; r++) {
    let lon = 0, lat = 0;
    for (let i = ringPoints[r]; i < ringPoints[r + 1]; i++) {
      lon = i === ringPoints[r] ? deltas[2 * i] : lon + deltas[2 * i];
      lat = i === ringPoints[r] ? deltas[2 * i + 1] : lat + deltas[2 * i + 1];
      xy[2 * i] = lon * degrees;
      xy[2 * i + 1] = -Math.log(Math.tan(Math.PI / 4 + (lat * degrees) / 2));
    }
  }
  offset += 8 * nPoints;
  const nJson = view.getUint32(offset, true);
  const names = JSON.parse(new TextDecoder().decode(bytes.subarray(offset + 4, offset + 4 + nJson)));
  const paths = new Array(nUnits);
  const boxes = new Float64Array(4 * nUnits);
  for (let u = 0; u < nUnits; u++) {
    const path = new Path2D();
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (let r = unitRings[u]; r < unitRings[u + 1]; r++) {
      const a = ringPoints[r], b = ringPoints[r + 1];
      if (b <= a) continue;
      path.moveTo(xy[2 * a], xy[2 * a + 1]);
      for (let i = a; i < b; i++) {
        const x = xy[2 * i], y = xy[2 * i + 1];
        if (i > a) path.lineTo(x, y);
        if (x < w) w = x;
        if (x > e) e = x;
        if (y < s) s = y;
        if (y > n) n = y;
      }
      path.closePath();
    }
    paths[u] = path;
    boxes.set([w, s, e, n], 4 * u);
  }
  return {
    paths,
    boxes,
    codes: names.codes,
    names: names.noms,
    points: names.points || null,
    grid: buildGrid(boxes, nUnits),
  };
}

// A uniform grid of the units' boxes: hover tests only the few units of one cell.
function buildGrid(boxes, n) {
  let w = Infinity, s = Infinity, e = -Infinity, north = -Infinity;
  for (let u = 0; u < n; u++) {
    if (!(boxes[4 * u] <= boxes[4 * u + 2])) continue;
    w = Math.min(w, boxes[4 * u]); s = Math.min(s, boxes[4 * u + 1]);
    e = Math.max(e, boxes[4 * u + 2]); north = Math.max(north, boxes[4 * u + 3]);
  }
  const size = Math.max(1, Math.ceil(Math.sqrt(n / 4)));
  const cells = Array.from({ length: size * size }, () => []);
  const cx = (x) => Math.min(size - 1, Math.max(0, Math.floor(((x - w) / (e - w || 1)) * size)));
  const cy = (y) => Math.min(size - 1, Math.max(0, Math.floor(((y - s) / (north - s || 1)) * size)));
  for (let u = 0; u < n; u++) {
    if (!(boxes[4 * u] <= boxes[4 * u + 2])) continue;
    for (let i = cx(boxes[4 * u]); i <= cx(boxes[4 * u + 2]); i++)
      for (let j = cy(boxes[4 * u + 1]); j <= cy(boxes[4 * u + 3]); j++) cells[j * size + i].push(u);
  }
  return { cells, size, cx, cy, box: [w, s, e, north] };
}

function loadGeometry(url) {
  if (!geometryCache.has(url)) {
    const promise = fetch(url)
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.arrayBuffer();
      })
      .then(parseGeometry);
    promise.catch(() => geometryCache.delete(url));
    geometryCache.set(url, promise);
  }
  return geometryCache.get(url);
}

// The rerun's payload: uint32 JSON length, JSON header, zero padding to 8 bytes, then per
// unit its value (int32 steps of 1 / value_scale, the int32 minimum when missing, or
// float64 when value_scale is null), its rank (uint16, 0: none) and its class (uint8,
// 255: missing).
function parsePayload(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const nJson = new DataView(buffer).getUint32(0, true);
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, nJson)));
  let offset = Math.ceil((4 + nJson) / 8) * 8;
  const n = meta.n;
  let values;
  if (meta.value_scale === null) {
    values = new Float64Array(buffer, offset, n);
    offset += 8 * n;
  } else {
    const steps = new Int32Array(buffer, offset, n);
    values = Float64Array.from(steps, (v) => (v === -2147483648 ? NaN : v / meta.value_scale));
    offset += 4 * n;
  }
  const ranks = new Uint16Array(buffer, offset, n);
  offset += 2 * n;
  const classes = new Uint8Array(buffer, offset, n);
  return { meta, values, ranks, classes };
}

function mercatorY(lat) {
  return Math.log(Math.tan(Math.PI / 4 + (Math.max(-85, Math.min(85, lat)) * Math.PI) / 360));
}

function setup(root) {
  const wrap = document.createElement("div");
  wrap.className = "dt-fastmap";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  const tip = document.createElement("div");
  tip.className = "dt-fastmap-tip";
  tip.hidden = true;
  const buttons = document.createElement("div");
  buttons.className = "dt-fastmap-buttons";
  const status = document.createElement("div");
  status.className = "dt-fastmap-status";
  status.textContent = "Chargement de la carte…";
  wrap.append(canvas, tip, buttons, status);
  root.appendChild(wrap);
  const state = { wrap, canvas, tip, status, k: 1, tx: 0, ty: 0, frame: 0, paints: 0 };
  for (const [label, title, action] of [
    ["+", "Zoomer", () => zoomAt(state, 2, state.width / 2, state.height / 2)],
    ["−", "Dézoomer", () => zoomAt(state, 0.5, state.width / 2, state.height / 2)],
    ["⟲", "Vue initiale", () => fitView(state, true)],
  ]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.title = title;
    button.setAttribute("aria-label", title);
    button.addEventListener("click", action);
    buttons.appendChild(button);
  }
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = canvas.getBoundingClientRect();
    zoomAt(state, Math.exp(-event.deltaY * 0.002), event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, tx: state.tx, ty: state.ty, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drag) {
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        state.tx = drag.tx + dx;
        state.ty = drag.ty + dy;
        tip.hidden = true;
        schedule(state);
        return;
      }
    }
    hover(state, event);
  });
  canvas.addEventListener("pointerup", (event) => {
    const click = drag && !drag.moved;
    drag = null;
    if (click) select(state, event);
  });
  canvas.addEventListener("pointerleave", () => { tip.hidden = true; });
  new ResizeObserver(() => resize(state)).observe(wrap);
  return state;
}

function resize(state) {
  const width = Math.max(1, state.wrap.clientWidth);
  const height = state.meta ? state.meta.height : 400;
  const ratio = window.devicePixelRatio || 1;
  if (width === state.width && height === state.height && ratio === state.ratio) return;
  state.width = width;
  state.height = height;
  state.ratio = ratio;
  state.canvas.width = Math.round(width * ratio);
  state.canvas.height = Math.round(height * ratio);
  state.canvas.style.width = `${width}px`;
  state.canvas.style.height = `${height}px`;
  if (!state.fitted || !state.userMoved) fitView(state, false);
  else schedule(state);
}

function fitView(state, reset) {
  if (!state.meta || !state.width) return;
  if (reset) state.userMoved = false;
  state.fitted = true;
  const [w, s, e, n] = state.meta.view;
  const x0 = (w * Math.PI) / 180, x1 = (e * Math.PI) / 180;
  const y0 = -mercatorY(n), y1 = -mercatorY(s);
  const k = Math.min(state.width / (x1 - x0 || 1e-6), state.height / (y1 - y0 || 1e-6)) * 0.97;
  state.k = k;
  state.tx = state.width / 2 - k * (x0 + x1) / 2;
  state.ty = state.height / 2 - k * (y0 + y1) / 2;
  schedule(state);
}

function zoomAt(state, factor, x, y) {
  state.userMoved = true;
  state.tx = x - (x - state.tx) * factor;
  state.ty = y - (y - state.ty) * factor;
  state.k *= factor;
  schedule(state);
}

function schedule(state) {
  if (state.frame) return;
  state.frame = requestAnimationFrame(() => {
    state.frame = 0;
    draw(state);
  });
}

// One path per class (built once per payload), filled in a handful of calls.
function classPaths(state) {
  const { geometry, payload } = state;
  const count = payload.meta.colours.length;
  const byClass = Array.from({ length: count + 1 }, () => new Path2D());
  const classes = payload.classes;
  for (let u = 0; u < geometry.paths.length; u++) {
    const c = classes[u];
    byClass[c === 255 || c >= count ? count : c].addPath(geometry.paths[u]);
  }
  return byClass;
}

function draw(state) {
  const { canvas, geometry, payload } = state;
  if (!geometry || !payload) return;
  const ctx = canvas.getContext("2d");
  const { meta } = payload;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const r = state.ratio;
  ctx.setTransform(state.k * r, 0, 0, state.k * r, state.tx * r, state.ty * r);
  const colours = [...meta.colours, meta.missing_colour];
  state.byClass.forEach((path, c) => {
    ctx.fillStyle = colours[c];
    ctx.fill(path, "evenodd");
  });
  ctx.lineJoin = "round";
  if (meta.unit_border > 0) {  // thin white borders between the units themselves
    if (!geometry.allPaths) {
      geometry.allPaths = new Path2D();
      for (const path of geometry.paths) geometry.allPaths.addPath(path);
    }
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = meta.unit_border / state.k;
    ctx.stroke(geometry.allPaths);
  }
  for (const layer of state.outlines || []) {
    ctx.strokeStyle = layer.color;
    ctx.lineWidth = layer.width / state.k;
    for (const path of layer.geometry.paths) ctx.stroke(path);
  }
  const strokeUnits = (units, colour, width) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width / state.k;
    for (const u of units) if (u >= 0 && u < geometry.paths.length) ctx.stroke(geometry.paths[u]);
  };
  if (meta.insets) {  // the overseas insets' frames (their names: drawLabels)
    ctx.strokeStyle = "#555555";
    ctx.lineWidth = 1 / state.k;
    for (const [w, s, e, n] of meta.insets.frames) {
      const x0 = (w * Math.PI) / 180, x1 = (e * Math.PI) / 180;
      const y0 = -mercatorY(n), y1 = -mercatorY(s);
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    }
  }
  strokeUnits(meta.highlight || [], meta.highlight_colour, 3);
  if (meta.selected >= 0) strokeUnits([meta.selected], meta.selected_colour, 4);
  drawLabels(state, ctx);
  // Painted: the frame with these values is on screen after the next animation frame.
  const sig = meta.sig;
  requestAnimationFrame(() => {
    state.paints += 1;
    state.wrap.dataset.paints = String(state.paints);
    state.wrap.dataset.sig = sig;
    state.wrap.dataset.paintedAt = String(performance.now());
    // CSS pixels = (tx + k * λ, ty − k * ln tan(π/4 + φ/2)), λ and φ in radians
    state.wrap.dataset.view = JSON.stringify([state.k, state.tx, state.ty]);
  });
}

// [name, longitude, latitude, width in degrees] of each unit of a file with label points.
function labelLines(geometry) {
  if (!geometry.points) return [];
  return geometry.points.map(([lon, lat], u) => [
    geometry.names[u],
    lon,
    lat,
    ((geometry.boxes[4 * u + 2] - geometry.boxes[4 * u]) * 180) / Math.PI,
  ]);
}

// Names of the surrounding units (those wide enough on screen for their name, without
// overlapping) and of the selected territory, in screen pixels over a white halo.
function drawLabels(state, ctx) {
  const { meta } = state.payload;
  const r = state.ratio;
  const size = meta.projection ? 20 : 12;
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.lineJoin = "round";
  const placed = [];
  const put = (label, font, force) => {
    const [text, lon, lat, span] = label;
    const x = state.tx + state.k * lon * Math.PI / 180;
    const y = state.ty - state.k * mercatorY(lat);
    ctx.font = font;
    const width = ctx.measureText(plain(text)).width;
    if (!force && state.k * span * Math.PI / 180 < width + 8) return;
    const box = [x - width / 2 - 3, y - size / 2 - 3, x + width / 2 + 3, y + size / 2 + 3];
    if (box[2] < 0 || box[0] > state.width || box[3] < 0 || box[1] > state.height) return;
    if (!force && placed.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) return;
    placed.push(box);
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.lineWidth = 3;
    ctx.strokeText(plain(text), x, y);
    ctx.fillStyle = "#1a1a1a";
    ctx.fillText(plain(text), x, y);
  };
  const family = '"Source Sans Pro", "Source Sans 3", sans-serif';
  if (meta.selected_label) put(meta.selected_label, `bold ${size + 2}px ${family}`, true);
  for (const [name, lon, lat] of meta.insets ? meta.insets.names : []) {
    put([name, lon, lat, 0], `${size}px ${family}`, true);
  }
  const framed = new Set((meta.insets ? meta.insets.names : []).map(([name]) => name));
  for (const label of state.labels || []) {
    if (!framed.has(label[0])) put(label, `${size}px ${family}`, false); // named on its frame
  }
}

function unitAt(state, event) {
  const { geometry } = state;
  if (!geometry) return -1;
  const rect = state.canvas.getBoundingClientRect();
  const x = (event.clientX - rect.left - state.tx) / state.k;
  const y = (event.clientY - rect.top - state.ty) / state.k;
  const { grid, boxes, paths } = geometry;
  const [w, s, e, n] = grid.box;
  if (x < w || x > e || y < s || y > n) return -1;
  const ctx = state.hitContext || (state.hitContext = document.createElement("canvas").getContext("2d"));
  for (const u of grid.cells[grid.cy(y) * grid.size + grid.cx(x)]) {
    if (x < boxes[4 * u] || x > boxes[4 * u + 2] || y < boxes[4 * u + 1] || y > boxes[4 * u + 3]) continue;
    if (ctx.isPointInPath(paths[u], x, y, "evenodd")) return u;
  }
  return -1;
}

function hover(state, event) {
  const u = unitAt(state, event);
  const { tip, payload } = state;
  if (u < 0 || !payload) {
    tip.hidden = true;
    return;
  }
  const { meta, values, ranks, classes } = payload;
  const lines = [plain(state.geometry.names[u])];
  if (classes[u] === 255) lines.push(plain(meta.missing_label));
  else if (meta.categories) lines.push(`${plain(meta.label)} : ${plain(meta.categories[classes[u]])}`);
  else {
    const value = state.numbers.format(values[u]);
    lines.push(`${plain(meta.label)} : ${value}${meta.unit ? ` ${plain(meta.unit)}` : ""}`);
    if (ranks[u] > 0 && meta.rank_total)
      lines.push(`Rang : ${ranks[u] === 1 ? "1er" : `${state.integers.format(ranks[u])}e`} / ${state.integers.format(meta.rank_total)}`);
  }
  tip.replaceChildren(...lines.map((text, i) => {
    const line = document.createElement(i === 0 ? "b" : "div");
    line.textContent = text;
    return line;
  }));
  const rect = state.canvas.getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  tip.hidden = false;
  tip.style.left = `${Math.min(x + 14, state.width - tip.offsetWidth - 4)}px`;
  tip.style.top = `${y + 14 + tip.offsetHeight > state.height ? y - tip.offsetHeight - 10 : y + 14}px`;
}

function select(state, event) {
  const u = unitAt(state, event);
  if (u >= 0 && state.setTriggerValue) state.setTriggerValue("clicked", state.geometry.codes[u]);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let state = states.get(parentElement);
  if (!state) {
    state = setup(parentElement);
    states.set(parentElement, state);
  }
  state.setTriggerValue = setTriggerValue;
  const payload = parsePayload(data);
  const { meta } = payload;
  state.wrap.classList.toggle("dt-projection", Boolean(meta.projection));
  state.canvas.setAttribute("aria-label", `Carte : ${plain(meta.label)}`);
  state.numbers = new Intl.NumberFormat("fr-FR", {
    minimumFractionDigits: meta.decimals,
    maximumFractionDigits: meta.decimals,
  });
  state.integers = new Intl.NumberFormat("fr-FR");
  const viewChanged = !state.meta || JSON.stringify(state.meta.view) !== JSON.stringify(meta.view);
  const token = (state.token = (state.token || 0) + 1);
  const urls = [meta.geometry, meta.labels, ...meta.outlines.map((o) => o.url)];
  Promise.all(urls.map(loadGeometry))
    .then(([geometry, labelled, ...outlines]) => {
      if (token !== state.token) return; // a newer payload arrived meanwhile
      if (geometry.paths.length !== meta.n) throw new Error("map file and values differ");
      state.geometry = geometry;
      state.outlines = meta.outlines.map((o, i) => ({ ...o, geometry: outlines[i] }));
      state.labels = labelLines(labelled);
      state.payload = payload;
      state.meta = meta;
      state.byClass = classPaths(state);
      state.status.hidden = true;
      state.wrap.style.height = `${meta.height}px`;
      resize(state);
      if (viewChanged) fitView(state, true);
      schedule(state);
    })
    .catch((error) => {
      state.status.hidden = false;
      state.status.textContent = "La carte n'a pas pu être chargée ; rechargez la page.";
      console.error(error);
    });
}
