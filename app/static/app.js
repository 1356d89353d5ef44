/* Screening page: draw or upload a site, pick the project, see the verdict and compare sites.
   Everything is served by this service (no CDN, no external tiles unless configured). */
"use strict";

const I18N = {
  zh: {}, // the page's own Chinese text is the default
  en: {
    title: "Chongqing red-line & zoning site screening", demo: "Demo data: illustrative layers, not legal boundaries",
    site: "Site", drawPolygon: "Polygon", drawLine: "Line", drawPoint: "Point", clear: "Clear",
    upload: "…or upload a site file (GeoJSON, KML/KMZ, zipped shapefile, 界址点 TXT, CSV…)",
    crs: "CRS", radius: "Point radius (m)", width: "Corridor width (m)", noSite: "No site yet",
    project: "Project", industry: "Industry (GB/T 4754 code or name)", nature: "Nature", ptype: "Type",
    flags: "Project characteristics the industry code cannot show (tick all that apply)",
    activity: "Limited activity inside the ecological red line (if it is one)",
    submit: "Screen", addCompare: "Add to comparison", share: "Share link", report: "Printable report",
    compare: "Compare candidate sites",
  },
};
const VERDICT_EN = { forbid: "Forbidden", restrict: "Restricted", pass: "Pass", indeterminate: "Indeterminate", advisory: "Advisory" };
const LAYER_STYLES = {
  admin_district: { name: "区县界", style: { color: "#7f8c8d", weight: 1, dashArray: "5 4", fillOpacity: 0 }, on: true },
  river: { name: "河流", style: { color: "#3498db", weight: 3 }, on: true },
  eco_redline: { name: "生态保护红线", style: { color: "#c0392b", weight: 1, fillOpacity: 0.3 }, on: true },
  protected_area: { name: "自然保护地", style: { color: "#27ae60", weight: 1, fillOpacity: 0.25 }, on: true },
  four_mountains: { name: "“四山”管制区", style: { color: "#8e6e3b", weight: 1, fillOpacity: 0.15 }, on: true },
  water_source: { name: "饮用水水源保护区", style: { color: "#1abc9c", weight: 1, fillOpacity: 0.35 }, on: true },
  industrial_park: { name: "工业园区", style: { color: "#8e44ad", weight: 1, fillOpacity: 0.2 }, on: true },
  control_unit: { name: "环境管控单元", style: { color: "#34495e", weight: 1, fillOpacity: 0.05 }, on: false },
  general_eco_space: { name: "一般生态空间", style: { color: "#16a085", weight: 1, fillOpacity: 0.15 }, on: false },
  geohazard: { name: "地质灾害危险区", style: { color: "#d35400", weight: 1, fillOpacity: 0.3 }, on: false },
  basic_farmland: { name: "永久基本农田", style: { color: "#f1c40f", weight: 1, fillOpacity: 0.3 }, on: false },
  wetland: { name: "湿地", style: { color: "#2e86c1", weight: 1, fillOpacity: 0.3 }, on: false },
  built_up_area: { name: "城市建成区", style: { color: "#95a5a6", weight: 1, fillOpacity: 0.15 }, on: false },
  air_key_control_zone: { name: "大气污染重点控制区", style: { color: "#7d3c98", weight: 1, fillOpacity: 0.03 }, on: false },
  // plan scope, not a constraint: the 沙坪坝 plan excludes it (dashed outline, no fill)
  hitech_zone: { name: "重庆高新区直管园", style: { color: "#212f3d", weight: 2, dashArray: "10 6", fillOpacity: 0 }, on: false },
  river_management: { name: "河道管理范围及绿化缓冲带", style: { color: "#3f51b5", weight: 1, fillOpacity: 0.3 }, on: true },
  sensitive_receptor: { name: "居民区、学校、医院等敏感目标", style: { color: "#e84393", weight: 1, fillOpacity: 0.3 }, on: false },
  riverside_area: { name: "嘉陵江沙坪坝一侧及上游沿江河地区", style: { color: "#9a7d0a", weight: 1, fillOpacity: 0.1 }, on: false },
  forest_land: { name: "林地", style: { color: "#7cb342", weight: 1, fillOpacity: 0.2 }, on: false },
  outfall_zone: { name: "入河排污口禁止/限制设置区域", style: { color: "#78281f", weight: 1, fillOpacity: 0.25 }, on: false },
};

const state = { lang: "zh", drawn: null, file: null, industry: null, result: null, compare: [] };
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

const map = L.map("map", { preferCanvas: true }).setView([29.6, 106.45], 11);
window.redlineMap = map; // for tests and power users
const siteLayer = L.featureGroup().addTo(map);
const highlight = L.featureGroup().addTo(map);

async function getJSON(url, opts) {
  const r = await fetch(url, opts);
  const body = await r.json();
  if (!r.ok) throw Object.assign(new Error(body.message_zh || body.detail || r.statusText), { body });
  return body;
}

async function initMap() {
  const cfg = await getJSON("/api/v1/config");
  if (cfg.demo) $("demo-banner").hidden = false;
  if (cfg.tile_url) L.tileLayer(cfg.tile_url, { attribution: esc(cfg.tile_attribution) }).addTo(map);
  const { collections } = await getJSON("/ogc/collections");
  const active = new Set(collections.map((c) => c.id));
  const kinds = Object.keys(LAYER_STYLES).filter((k) => active.has(k));
  const loaded = await Promise.all(kinds.map(async (kind) => {
    const spec = LAYER_STYLES[kind];
    const fc = await getJSON(`/ogc/collections/${kind}/items?limit=10000`);
    return L.geoJSON(fc, {
      style: () => spec.style,
      onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.name || f.properties.mountain || spec.name)),
    });
  }));
  const overlays = {};  // in LAYER_STYLES order, whatever order the downloads finished in
  kinds.forEach((kind, i) => {
    overlays[LAYER_STYLES[kind].name] = loaded[i];
    if (LAYER_STYLES[kind].on) loaded[i].addTo(map);
  });
  const rings = await getJSON("/api/v1/basemap/rings");
  const ringLayer = L.geoJSON(rings, {
    style: () => ({ color: "#8e44ad", weight: 1.5, dashArray: "8 6" }),
    onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.label)),
  }).addTo(map);
  overlays["距离控制线(1/3/5公里)"] = ringLayer;
  L.control.layers(null, overlays, { collapsed: window.innerWidth < 800 }).addTo(map);
  // bottom left, above the scale: the expanded layer list on the right reaches the bottom
  L.control.scale({ imperial: false }).addTo(map);
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    // swatch colours through the CSSOM: the CSP allows no style attributes in markup
    const row = (colour, label) => {
      const item = L.DomUtil.create("div", "", div);
      L.DomUtil.create("i", "", item).style.background = colour;
      item.append(label);
    };
    Object.values(LAYER_STYLES).filter((s) => s.on).forEach((s) => row(s.style.color, s.name));
    row("#8e44ad", "距离控制线");
    row("#f1c40f", "场址");
    return div;
  };
  legend.addTo(map);
}

/* ---- site: draw or upload ---- */
const DRAW = { "draw-polygon": "Polygon", "draw-line": "Line", "draw-point": "Marker" };
for (const [id, shape] of Object.entries(DRAW)) {
  $(id).addEventListener("click", () => {
    map.pm.disableDraw();
    Object.keys(DRAW).forEach((k) => $(k).classList.toggle("active", k === id));
    map.pm.enableDraw(shape, { snappable: false, finishOn: shape === "Line" ? "dblclick" : null });
  });
}
$("clear").addEventListener("click", clearSite);
map.on("pm:create", (e) => {
  clearSite();
  state.drawn = e.layer;
  siteLayer.addLayer(e.layer);
  Object.keys(DRAW).forEach((k) => $(k).classList.remove("active"));
  setStatus(`已绘制${e.shape === "Polygon" ? "面" : e.shape === "Line" ? "线" : "点"}状场址`);
});
$("file").addEventListener("change", () => {
  if (state.drawn) { siteLayer.removeLayer(state.drawn); state.drawn = null; }
  state.file = $("file").files[0] || null;
  setStatus(state.file ? `已选择文件：${state.file.name}` : "尚未选择场址");
});
function clearSite() {
  siteLayer.clearLayers(); highlight.clearLayers();
  state.drawn = null; state.file = null; $("file").value = "";
  setStatus("尚未选择场址");
}
function setStatus(text) { $("site-status").textContent = text; }

/* ---- industry picker ---- */
let industryTimer = null;
let industryActive = -1;
$("industry").addEventListener("input", () => {
  state.industry = null;
  clearTimeout(industryTimer);
  industryTimer = setTimeout(searchIndustry, 150);
});
$("industry").addEventListener("keydown", (e) => {
  const items = [...$("industry-list").children];
  if (!items.length) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    industryActive = (industryActive + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
    items.forEach((li, i) => li.setAttribute("aria-selected", i === industryActive));
  } else if (e.key === "Enter" && industryActive >= 0) {
    e.preventDefault(); items[industryActive].click();
  } else if (e.key === "Escape") { hideIndustry(); }
});
async function searchIndustry() {
  const q = $("industry").value.trim();
  if (!q) return hideIndustry();
  const { items } = await getJSON(`/api/v1/industries?q=${encodeURIComponent(q)}&limit=15`);
  const list = $("industry-list");
  list.innerHTML = items.map((it, i) =>
    `<li role="option" id="ind-${i}" data-code="${esc(it.code)}">${esc(it.code)} ${esc(it.name_zh)}${it.synonym ? `（${esc(it.synonym)}）` : ""}</li>`).join("");
  list.hidden = !items.length; industryActive = -1;
  $("industry").setAttribute("aria-expanded", String(!!items.length));
  [...list.children].forEach((li) => li.addEventListener("click", () => {
    state.industry = li.dataset.code; $("industry").value = li.textContent; hideIndustry();
  }));
}
function hideIndustry() { $("industry-list").hidden = true; $("industry").setAttribute("aria-expanded", "false"); }

/* ---- submit ---- */
$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").hidden = true;
  const typed = $("industry").value.trim().split(/\s+/)[0];
  const project = { industry: state.industry || typed || undefined, nature: $("nature").value, type: $("ptype").value };
  const checked = (name) => [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  if (checked("flag").length) project.flags = checked("flag");
  if (checked("activity").length) project.activity = checked("activity");
  const crs = $("crs").value || undefined;
  const radius = Number($("radius").value) || undefined;
  const width = Number($("width").value) || undefined;
  let opts;
  if (state.file) {
    const fd = new FormData();
    fd.append("file", state.file);
    fd.append("project", JSON.stringify(project));
    if (crs) fd.append("crs", crs);
    if (radius) fd.append("radius_m", radius);
    if (width) fd.append("corridor_width_m", width);
    opts = { method: "POST", body: fd };
  } else if (state.drawn) {
    const geom = state.drawn.toGeoJSON().geometry;
    const body = { site: geom, project, crs };
    if (geom.type === "Point") body.radius_m = radius;
    if (geom.type === "LineString") body.corridor_width_m = width;
    opts = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  } else {
    return showError("请先在地图上绘制场址或上传场址文件");
  }
  $("submit").disabled = true;
  try {
    const doc = await getJSON("/api/v1/screenings", opts);
    showResult(doc, true);
  } catch (err) {
    showError(err.message);
  } finally {
    $("submit").disabled = false;
  }
});
function showError(msg) { $("error").textContent = msg; $("error").hidden = false; }

/* ---- result ---- */
function measureText(m) {
  if (m.distance_m !== undefined && m.threshold_m !== undefined)
    return m.distance_m === null ? `距离 > ${m.threshold_m} 米` : `距离 ${m.distance_m} 米 / 阈值 ${m.threshold_m} 米`;
  if (m.overlap_m2 !== undefined) return `重叠 ${m.overlap_m2} m²(占场址 ${(m.overlap_share * 100).toFixed(1)}%)`;
  if (m.outside_m2 !== undefined) return `范围外 ${m.outside_m2} m²(${(m.outside_share * 100).toFixed(1)}%)`;
  if (m.share !== undefined)
    return `栅格占比 ${(m.share * 100).toFixed(1)}%(${m.area_m2} m²，像元约 ${m.cell_size_m} 米)`;
  return "";
}
// 依据待核实 / 本工具解释 / 未采纳的申报: rule data shown as text nodes only (never innerHTML).
function findingNotes(box, f) {
  const add = (cls, label, text) => {
    const div = document.createElement("div");
    div.className = cls;
    const b = document.createElement("b");
    b.textContent = label;
    div.append(b, document.createTextNode(text));
    box.append(div);
  };
  if (f.basis.verified === false)
    add("warn unverified", "依据待核实", "：引文未能对照本库存储的原文核对，请以正式文本为准");
  if (f.interpretation_zh) add("muted interpretation", "本工具解释：", f.interpretation_zh);
  const refused = [].concat(f.exception_refused_zh || []);
  if (refused.length) add("warn refused", "未采纳的申报：", refused.join("；"));
}
function verdictLabel(v, zh) { return state.lang === "en" ? VERDICT_EN[v] : zh; }

function showResult(doc, fresh) {
  state.result = doc;
  $("result").hidden = false;
  const badge = $("badge");
  badge.className = `badge v-${doc.verdict}`;
  badge.textContent = verdictLabel(doc.verdict, doc.verdict_zh);
  $("summary").textContent = doc.summary_zh;
  const share = `${location.origin}/?id=${encodeURIComponent(doc.id)}`;
  $("share").href = share; $("report").href = doc.links.report; $("pdf").href = `${doc.links.report}?format=pdf`;
  if (fresh) history.replaceState(null, "", `/?id=${encodeURIComponent(doc.id)}`);
  $("findings").innerHTML = doc.findings.map((f, i) => `
    <li tabindex="0" data-i="${i}">
      <span class="tag v-${f.verdict}">${esc(verdictLabel(f.verdict, f.verdict_zh))}</span>
      <b>${esc(f.title_zh)}</b>
      ${f.borderline ? '<span class="warn">(边界待核)</span>' : ""}
      <div>${esc(f.basis.document)} ${esc(f.basis.clause)}</div>
      <div class="quote">“${esc(f.basis.quote_zh_hans || f.basis.quote)}”</div>
      <div class="notes"></div>
      ${(f.industry_categories || []).map((c) => `<details class="muted"><summary>行业归类：${esc(c.name_zh)}</summary>${esc(c.interpretation_zh)}</details>`).join("")}
      <div>${esc(f.feature ? f.feature.name || "" : "")} ${esc(measureText(f.measure))}</div>
      ${f.requirements_zh.length ? `<div class="muted">要求：${f.requirements_zh.map(esc).join("；")}</div>` : ""}
    </li>`).join("");
  [...$("findings").children].forEach((li) => {
    const f = doc.findings[Number(li.dataset.i)];
    findingNotes(li.querySelector(".notes"), f);
    li.addEventListener("mouseenter", () => highlightFinding(f));
    li.addEventListener("focus", () => highlightFinding(f));
    li.addEventListener("click", () => highlightFinding(f, true));
  });
  $("gaps").innerHTML = doc.not_evaluated.length
    ? `<p class="warn">无法评估 ${doc.not_evaluated.length} 项：</p><ul>${doc.not_evaluated.map((g) => `<li>${esc(g.reason)}</li>`).join("")}</ul>` : "";
  siteLayer.clearLayers();
  const site = L.geoJSON(doc.site.geometry, { style: { color: "#000", weight: 2, fillColor: "#f1c40f", fillOpacity: 0.5 } });
  siteLayer.addLayer(site);
  if (state.drawn) siteLayer.addLayer(state.drawn);
  map.fitBounds(site.getBounds().pad(1.5));
}

async function highlightFinding(f, zoom) {
  highlight.clearLayers();
  if (f.thumbnail && f.thumbnail_bounds) {
    const [w, s, e, n] = f.thumbnail_bounds;
    highlight.addLayer(L.imageOverlay(f.thumbnail, [[s, w], [n, e]], { opacity: 0.75 }));
    if (zoom) map.fitBounds([[s, w], [n, e]]);
    return;
  }
  if (!f.layer || !f.feature) return;
  try {
    const feat = await getJSON(`/ogc/collections/${f.layer.kind}/items/${f.feature.index + 1}`);
    const colour = { forbid: "#c0392b", restrict: "#e67e22", advisory: "#2980b9" }[f.verdict];
    const layer = L.geoJSON(feat, { style: { color: colour, weight: 4, fillOpacity: 0.1 } });
    highlight.addLayer(layer);
    if (zoom) map.fitBounds(layer.getBounds().extend(siteLayer.getBounds()));
  } catch (err) { /* the feature's version is no longer active: nothing to highlight */ }
}

/* ---- compare up to three candidates ---- */
$("add-compare").addEventListener("click", () => {
  const doc = state.result;
  if (!doc || state.compare.some((c) => c.id === doc.id)) return;
  if (state.compare.length >= 3) state.compare.shift();
  state.compare.push(doc);
  renderCompare();
});
function renderCompare() {
  $("compare").hidden = !state.compare.length;
  const docs = state.compare;
  const allLabels = [...new Set(docs.flatMap((d) => (d.nearest || []).map((n) => n.label_zh)))];
  const count = (d, v) => d.findings.filter((f) => f.verdict === v).length;
  const rows = [
    ["场址", (d, i) => `方案${i + 1} · ${esc((d.site.districts[0] || {}).name || "")}`],
    ["结论", (d) => `<span class="tag v-${d.verdict}">${esc(d.verdict_zh)}</span>`],
    ["禁止/限制条数", (d) => `${count(d, "forbid")} / ${count(d, "restrict")}`],
    ["面积(公顷)", (d) => (d.site.area_m2 / 1e4).toFixed(2)],
    ...allLabels.map((label) => [`距${label}(米)`, (d) => {
      const n = (d.nearest || []).find((x) => x.label_zh === label);
      return n ? (n.distance_m === null ? `> ${n.within_m}` : n.distance_m) : "—";
    }]),
    ["链接", (d) => `<a href="/?id=${encodeURIComponent(d.id)}">打开</a>`],
  ];
  $("compare-table").innerHTML = rows.map(([h, fn]) =>
    `<tr><th scope="row">${h}</th>${docs.map((d, i) => `<td>${fn(d, i)}</td>`).join("")}</tr>`).join("");
}

/* ---- language ---- */
$("lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = state.lang === "en" ? (I18N.en[el.dataset.i18n] || el.dataset.zh) : el.dataset.zh;
  });
  $("lang").textContent = state.lang === "zh" ? "English" : "中文";
  if (state.result) showResult(state.result, false);
});

/* ---- start ---- */
initMap().then(async () => {
  const id = new URLSearchParams(location.search).get("id");
  if (id) {
    try { showResult(await getJSON(`/api/v1/screenings/${encodeURIComponent(id)}`), false); }
    catch (err) { showError(err.message); }
  }
  document.body.dataset.ready = "1";
}).catch((err) => showError(`地图加载失败：${err.message}`));
