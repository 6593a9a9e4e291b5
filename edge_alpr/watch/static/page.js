// The watch page: camera status every 2 s; recent events every 3 s unless a search is shown.
"use strict";
const $ = (id) => document.getElementById(id);
let searching = false;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function localTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "-";
}

function toUtc(local) {  // datetime-local (the viewer's time) -> ISO 8601 UTC
  return local ? new Date(local).toISOString() : "";
}

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function cameraCard(c) {
  const last = c.last_event;
  const rows = [["state", c.state], ["fps", c.fps.toFixed(1)], ["frames read", c.frames_read],
                ["dropped", c.dropped], ["reconnects", c.reconnects],
                ["last event", last ? `${last.text} ${localTime(last.last_seen)}` : "-"]];
  const dl = el("dl");
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, String(v)));
  const card = el("article", {class: "camera", "data-camera": c.name},
                  el("h2", {}, el("span", {class: `dot ${c.state}`}), c.name), dl);
  if (c.error) card.append(el("div", {class: "meta"}, c.error));
  return card;
}

async function refreshStatus() {
  try {
    const s = await getJson("/api/status");
    $("cameras").replaceChildren(...s.cameras.map(cameraCard));
    const select = $("camera");
    if (select.options.length === 1) {
      for (const c of s.cameras) select.append(el("option", {value: c.name}, c.name));
    }
    $("clock").textContent = localTime(s.now);
  } catch (e) {
    $("clock").textContent = `status unavailable: ${e.message}`;
  }
}

function eventCard(e) {
  const card = el("article", {class: "event", "data-plate": e.text, "data-id": e.id});
  if (e.crop_url) {
    card.append(el("a", {href: e.frame_url || e.crop_url, target: "_blank"},
                   el("img", {src: e.crop_url, alt: `plate ${e.text}`})));
  }
  const title = el("div", {class: "plate"}, e.text);
  if (e.watchlist) {
    title.append(el("span", {class: `badge ${e.watchlist.list}`,
                             title: `${e.watchlist.plate}, ${e.watchlist.distance} edit(s)`},
                    `${e.watchlist.list}${e.watchlist.label ? ": " + e.watchlist.label : ""}`));
  }
  card.append(el("div", {class: "body"}, title,
    el("div", {class: "meta"}, `${e.camera} · ${localTime(e.first_seen)}`),
    el("div", {class: "meta"},
       `${e.direction || "?"} · ${e.frames} frames · confidence ${e.confidence.toFixed(2)}`)));
  return card;
}

async function showEvents(params) {
  try {
    const body = await getJson("/api/events?" + new URLSearchParams(params));
    const list = body.events;
    $("events").replaceChildren(...(list.length ? list.map(eventCard)
                                    : [el("p", {class: "empty"}, "No event found.")]));
    $("summary").textContent = searching
      ? `${list.length} event(s) found` : `${list.length} recent event(s)`;
  } catch (e) {
    $("summary").textContent = `search failed: ${e.message}`;
  }
}

function searchParams() {
  const p = {limit: "100"};
  if ($("plate").value.trim()) p.plate = $("plate").value.trim();
  if ($("camera").value) p.camera = $("camera").value;
  if ($("since").value) p.since = toUtc($("since").value);
  if ($("until").value) p.until = toUtc($("until").value);
  return p;
}

$("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const p = searchParams();
  searching = Object.keys(p).length > 1;
  showEvents(p);
});
$("clear").addEventListener("click", () => {
  $("search").reset();
  searching = false;
  showEvents({limit: "50"});
});

refreshStatus();
showEvents({limit: "50"});
setInterval(refreshStatus, 2000);
setInterval(() => { if (!searching) showEvents({limit: "50"}); }, 3000);
