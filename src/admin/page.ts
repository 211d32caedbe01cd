/**
 * The admin endpoint's web view: one HTML page, one script and one stylesheet, served by the
 * node itself (no build step, nothing loaded from elsewhere; the content security policy allows
 * only these). The script reads `/events` (server-sent events, through `fetch` so that a bearer
 * token can be sent: give it in the page's fragment, `/#token=...`, which never leaves the
 * browser) and draws: the node's key and listen address; every peer of the first page with its
 * state (blocked with its expiry), address, totals and a live chart of its message rate; a
 * live chart per channel; the tracked peer sets and, for discovery, which signed records each set
 * knows (its bit vector); and the recent events. Untrusted text is only ever set as text.
 *
 * @module
 */

/** `GET /`. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>authp2p node</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="data:,">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>authp2p <span id="flavour"></span> node</h1>
  <div id="node"><span>key <code id="key">-</code></span><span>listen <code id="listen">-</code></span>
  <span id="summary"></span><span id="conn" class="badge disconnected">connecting</span></div>
</header>
<main>
  <section id="peers-section">
    <h2>Peers <small id="peer-count"></small></h2>
    <table id="peers">
      <thead><tr><th>peer</th><th>address</th><th>state</th><th>since</th><th>in</th><th>out</th>
      <th>bytes in</th><th>bytes out</th><th>limited</th><th>dropped</th><th>msgs/s</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="channels-section">
    <h2>Channels</h2>
    <div id="channels"></div>
  </section>
  <section id="sets-section">
    <h2>Tracked peer sets</h2>
    <div id="sets"></div>
  </section>
  <section id="events-section">
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </section>
</main>
</body>
</html>
`;

/** `GET /app.css`. */
export const APP_CSS = `:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --dim: #777; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 0 1.5rem 2rem; }
header { border-bottom: 1px solid #8884; padding: .8rem 0; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
#node { display: flex; gap: 1.2rem; flex-wrap: wrap; align-items: center; }
code { font: 12px ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #8882; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: 12px; color: #fff; background: var(--dim); }
.badge.connected, .badge.live { background: var(--ok); } .badge.dialing, .badge.reserved { background: var(--warn); }
.badge.blocked { background: var(--bad); }
svg.spark { width: 120px; height: 24px; vertical-align: middle; }
svg polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.chart { display: inline-block; margin: 0 1rem .6rem 0; } .chart svg { width: 260px; height: 60px; border: 1px solid #8883; }
.legend { font-size: 12px; color: var(--dim); }
.in { stroke: #1565c0; color: #1565c0; } .out { stroke: #ef6c00; color: #ef6c00; }
.bits { display: flex; flex-wrap: wrap; gap: 2px; max-width: 60rem; margin: .2rem 0 .6rem; }
.bit { width: 10px; height: 10px; background: #8884; } .bit.on { background: var(--ok); }
#events { font: 12px ui-monospace, monospace; max-height: 20rem; overflow: auto; padding-left: 1.5rem; }
#events li.disconnected, #events li.blocked, #events li.handshakeFailed { color: var(--bad); }
#events li.connected { color: var(--ok); } #events li.rateLimited { color: var(--warn); }
`;

/** `GET /app.js`. */
export const APP_JS = `'use strict';
(() => {
  const HISTORY = 60;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c);
    return e;
  };
  const SVG = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const short = (hex) => hex.slice(0, 8) + '..' + hex.slice(-4);
  const ago = (t, now) => {
    if (t === null) return '-';
    const s = Math.max(0, Math.round((now - t) / 1000));
    return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
  };
  const clock = (t) => new Date(t).toLocaleTimeString();

  // Rate history: key -> { last: {at, in, out}, in: [], out: [] }
  const rates = new Map();
  function sample(key, at, inTotal, outTotal) {
    let h = rates.get(key);
    if (!h) { h = { last: null, in: [], out: [] }; rates.set(key, h); }
    if (h.last && at > h.last.at) {
      const dt = (at - h.last.at) / 1000;
      h.in.push(Math.max(0, (inTotal - h.last.in) / dt));
      h.out.push(Math.max(0, (outTotal - h.last.out) / dt));
      if (h.in.length > HISTORY) { h.in.shift(); h.out.shift(); }
    }
    h.last = { at, in: inTotal, out: outTotal };
    return h;
  }
  function chart(h, cls, width, height) {
    const s = svg('svg', { class: cls, viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'none' });
    const max = Math.max(1, ...h.in, ...h.out);
    for (const [series, name] of [[h.in, 'in'], [h.out, 'out']]) {
      // Newest on the right.
      const offset = HISTORY - series.length;
      const pts = series.map((v, i) =>
        (((offset + i) / (HISTORY - 1)) * width).toFixed(1) + ',' + (height - 1 - (v / max) * (height - 2)).toFixed(1));
      s.append(svg('polyline', { class: name, points: pts.join(' ') }));
    }
    return s;
  }
  const last = (a) => (a.length ? a[a.length - 1] : 0);

  function render(s) {
    $('flavour').textContent = s.network;
    $('key').textContent = s.key;
    $('listen').textContent = s.listen;
    const connected = s.peers.filter((p) => p.state === 'connected').length;
    $('summary').textContent = connected + ' connected of ' + s.total + ' known';
    $('peer-count').textContent = s.peers.length < s.total ? '(first ' + s.peers.length + ' of ' + s.total + ')' : '';
    const body = document.querySelector('#peers tbody');
    const rows = [];
    for (const p of s.peers) {
      const h = sample('peer:' + p.key, s.at, p.messagesIn, p.messagesOut);
      const state = p.state === 'blocked' && p.blockedUntil !== null
        ? 'blocked until ' + clock(p.blockedUntil) : p.state;
      const tr = el('tr', { 'data-peer': p.key, 'data-state': p.state },
        el('td', { title: p.key }, el('code', {}, short(p.key))),
        el('td', {}, p.address === null ? '-' : p.address),
        el('td', {}, el('span', { class: 'badge ' + p.state }, state)),
        el('td', {}, ago(p.since, s.at)),
        el('td', { class: 'num' }, String(p.messagesIn)),
        el('td', { class: 'num' }, String(p.messagesOut)),
        el('td', { class: 'num' }, String(p.bytesIn)),
        el('td', { class: 'num' }, String(p.bytesOut)),
        el('td', { class: 'num' }, String(p.rateLimited)),
        el('td', { class: 'num' }, String(p.dropped)),
        el('td', { title: 'in ' + last(h.in).toFixed(1) + '/s, out ' + last(h.out).toFixed(1) + '/s' },
          chart(h, 'spark', 120, 24)));
      rows.push(tr);
    }
    body.replaceChildren(...rows);

    const charts = [];
    for (const c of s.channels) {
      const h = sample('channel:' + c.channel, s.at, c.messagesIn, c.messagesOut);
      charts.push(el('div', { class: 'chart', 'data-channel': String(c.channel) },
        el('div', {}, 'channel ' + c.channel + ' ',
          el('span', { class: 'legend' }, 'in ', el('b', { class: 'in' }, last(h.in).toFixed(1)),
            '/s, out ', el('b', { class: 'out' }, last(h.out).toFixed(1)), '/s, dropped ' + c.dropped)),
        chart(h, 'big', 260, 60)));
    }
    $('channels').replaceChildren(...(charts.length ? charts : [el('p', { class: 'legend' }, 'no traffic yet')]));

    const sets = [];
    for (const set of s.sets) {
      const parts = [el('div', { 'data-set': String(set.index) }, 'set ' + set.index + ': ' + set.primary.length +
        ' primary, ' + set.secondary.length + ' secondary' +
        (set.known === undefined ? '' : ', signed records known for ' +
          set.known.split('').filter((b) => b === '1').length + ' of ' + set.primary.length))];
      if (set.known !== undefined) {
        const bits = el('div', { class: 'bits', 'data-bits': set.known });
        set.primary.forEach((k, i) => bits.append(el('span', { class: 'bit' + (set.known[i] === '1' ? ' on' : ''), title: k })));
        parts.push(bits);
      }
      sets.push(...parts);
    }
    $('sets').replaceChildren(...(sets.length ? sets : [el('p', { class: 'legend' }, 'no set registered')]));
  }

  const events = [];
  function addEvent(e) {
    const what = e.kind + (e.peer ? ' ' + short(e.peer) : '') + (e.reason ? ' (' + e.reason + ')' : '') +
      (e.count && e.count > 1 ? ' x' + e.count : '');
    events.unshift(el('li', { class: e.kind }, clock(e.at) + '  ' + what));
    if (events.length > 100) events.pop();
    $('events').replaceChildren(...events);
  }

  function handleFrame(frame) {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return;
    const value = JSON.parse(data);
    if (event === 'snapshot') render(value);
    else if (event === 'conn') addEvent(value);
  }

  function setLive(live) {
    const b = $('conn');
    b.textContent = live ? 'live' : 'reconnecting';
    b.className = 'badge ' + (live ? 'live' : 'disconnected');
  }

  async function stream() {
    for (;;) {
      try {
        const res = await fetch('/events', { headers, cache: 'no-store' });
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        setLive(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let i;
          while ((i = buffer.indexOf('\\n\\n')) >= 0) {
            handleFrame(buffer.slice(0, i));
            buffer = buffer.slice(i + 2);
          }
        }
      } catch (err) {
        // Reconnect below.
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  fetch('/status?limit=256', { headers, cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .then((s) => { if (s) render(s); })
    .catch(() => {});
  stream();
})();
`;
