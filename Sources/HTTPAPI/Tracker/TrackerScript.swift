/// lr.js, leadrouter's first-party tracker for shops without Segment, embedded in the binary so
/// every node serves the same bytes with no file to deploy. It speaks Segment's wire format to
/// the endpoints analytics.js uses (`/v1/b` with a `text/plain` body, `sendBeacon` on page
/// hide), so ingest needs nothing of its own for it. A Swift string rather than a resource
/// bundle: nothing to find on disk at run time. docs/lrjs.md documents it (keep them in step);
/// the browser test (`BrowserTests`) runs exactly this text.
enum TrackerScript {
    /// The script's version: bump it with every change (`/v1/lr-<version>.js` is cached forever).
    static let version = "1.0.0"

    static let source = ##"""
/*! lr.js 1.0.0 — leadrouter's first-party tracker. Segment wire format, no dependencies. */
(function (w, d) {
  "use strict";
  var VERSION = "1.0.0", P = "lr_", nav = w.navigator, ls, pending = w.lr, queued = [], cfg = {}, anon, user,
    consent, timer, backoff = 0, sending = 0, lastPage, started;
  try { ls = w.localStorage; ls.setItem(P + "t", "1"); ls.removeItem(P + "t"); } catch (e) { ls = null; }

  function get(k) { try { return ls && ls.getItem(P + k); } catch (e) { return null; } }
  function set(k, v) { try { if (ls) v == null ? ls.removeItem(P + k) : ls.setItem(P + k, v); } catch (e) {} }
  function cookie(k, v) {
    if (v === undefined) {
      var m = d.cookie.match(new RegExp("(?:^|; )" + P + k + "=([^;]*)"));
      return m ? decodeURIComponent(m[1]) : null;
    }
    d.cookie = P + k + "=" + encodeURIComponent(v || "") + "; path=/; SameSite=Lax; max-age=" + (v ? 31536000 : 0) +
      (location.protocol == "https:" ? "; Secure" : "");
  }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16), i, s = "";
    (w.crypto || w.msCrypto).getRandomValues(b);
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (i = 0; i < 16; i++) s += (i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
    return s;
  }
  function allowed() { return consent !== false && (!cfg.requireConsent || consent === true); }
  // Identity is written to a first-party cookie and localStorage only once allowed.
  function persist() {
    if (!allowed()) return;
    cookie("aid", anon); set("aid", anon); set("uid", user);
    set("q", queued.length ? JSON.stringify(queued.slice(-100)) : null);
  }
  function campaign(search) {
    var c = {}, n = 0;
    search.replace(/[?&]utm_([a-z]+)=([^&#]*)/g, function (_, k, v) {
      c[k == "campaign" ? "name" : k] = decodeURIComponent(v.replace(/\+/g, " ")); n++;
    });
    return n ? c : null;
  }
  function pageInfo() {
    return { path: location.pathname, referrer: d.referrer, search: location.search, title: d.title, url: location.href };
  }
  function context() {
    var c = { library: { name: "lr.js", version: VERSION }, page: pageInfo(), userAgent: nav.userAgent,
      locale: nav.language }, cp = campaign(location.search);
    if (cp) c.campaign = cp;
    return c;
  }
  function enqueue(msg) {
    if (consent === false || !cfg.writeKey) return;
    msg.messageId = "lr-" + uuid();
    msg.anonymousId = anon;
    if (user) msg.userId = user;
    msg.timestamp = new Date().toISOString();
    msg.context = context();
    queued.push(msg);
    persist();
    if (queued.length >= (cfg.batchSize || 20)) flush(); else schedule(cfg.flushInterval || 2000);
  }
  function schedule(ms) { if (!timer) timer = setTimeout(function () { timer = 0; flush(); }, ms); }
  function payload(batch) { return JSON.stringify({ batch: batch, sentAt: new Date().toISOString(), writeKey: cfg.writeKey }); }
  // text/plain keeps the POST a "simple" cross-origin request: no preflight, as analytics.js does.
  function flush() {
    if (!allowed() || sending || !queued.length) return;
    var batch = queued.slice(0, 100);
    sending = 1;
    function done(ok, retry) {
      sending = 0;
      // By identity: a beacon may have sent (and removed) some of them meanwhile.
      if (ok || !retry) { queued = queued.filter(function (m) { return batch.indexOf(m) < 0; }); backoff = 0; persist(); if (queued.length) schedule(0); }
      else { backoff = Math.min(backoff ? backoff * 2 : 1000, 60000); schedule(backoff * (0.5 + Math.random() / 2)); }
    }
    fetch(cfg.host + "/v1/b", { method: "POST", body: payload(batch), keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).then(function (r) {
      done(r.ok, r.status == 429 || r.status >= 500);  // other 4xx: the server refused it, retrying would not help
    }, function () { done(false, true); });
  }
  // On page hide the browser may kill fetches: sendBeacon hands the rest to the browser.
  function beacon() {
    if (!allowed() || !queued.length || !nav.sendBeacon) return;
    clearTimeout(timer); timer = 0;
    while (queued.length) {
      var n = Math.min(queued.length, 50), body;
      while ((body = payload(queued.slice(0, n))).length > 60000 && n > 1) n = n >> 1;
      if (!nav.sendBeacon(cfg.host + "/v1/b", new Blob([body], { type: "text/plain" }))) break;
      queued.splice(0, n);
    }
    persist();
  }
  function page(name, props) {
    if (typeof name == "object") { props = name; name = null; }
    var p = pageInfo(), k;
    for (k in props || {}) p[k] = props[k];
    lastPage = location.pathname + location.search;
    enqueue(name ? { type: "page", name: name, properties: p } : { type: "page", properties: p });
  }
  function spaPage() { if (location.pathname + location.search != lastPage) page(); }
  function track(event, props) { enqueue({ type: "track", event: event, properties: props || {} }); }
  function helper(event) { return function (props) { track(event, props); }; }

  var api = {
    VERSION: VERSION,
    init: function (o) {
      var k;
      for (k in o) cfg[k] = o[k];
      cfg.host = (cfg.host || "").replace(/\/$/, "");
      if (started) return;
      started = 1;
      var c = get("consent");
      if (consent == null && c) consent = c == "1";
      if (allowed()) {
        anon = cookie("aid") || get("aid") || anon;
        user = get("uid");
        try { queued = JSON.parse(get("q")) || []; } catch (e) {}
      }
      anon = anon || uuid();
      if (cfg.pageviews !== false) {
        setTimeout(page, 0);  // after the calls queued before load (an identify gives the page its userId)
        ["pushState", "replaceState"].forEach(function (m) {
          var orig = history[m];
          history[m] = function () { var r = orig.apply(this, arguments); spaPage(); return r; };
        });
        w.addEventListener("popstate", spaPage);
      }
      w.addEventListener("pagehide", beacon);
      d.addEventListener("visibilitychange", function () { if (d.visibilityState == "hidden") beacon(); });
      persist();
      if (queued.length) schedule(0);
    },
    page: page,
    track: track,
    identify: function (id, traits) {
      if (typeof id == "object") { traits = id; id = null; }
      if (id) user = String(id);
      enqueue({ type: "identify", traits: traits || {} });
    },
    // The spec v2 names, so config/segments.yaml's aliases map them (docs/rules-cli.md).
    productViewed: helper("Product Viewed"),
    addedToCart: helper("Product Added"),
    removedFromCart: helper("Product Removed"),
    addedToWishlist: helper("Product Added to Wishlist"),
    checkoutStarted: helper("Checkout Started"),
    orderCompleted: helper("Order Completed"),
    // consent(true) starts sending (and storing the id); consent(false) forgets everything.
    consent: function (yes) {
      consent = !!yes;
      set("consent", yes ? "1" : "0");
      if (yes) { persist(); flush(); }
      else { queued = []; cookie("aid", null); set("aid", null); set("uid", null); set("q", null); }
    },
    anonymousId: function () { return anon; },
    reset: function () { user = null; anon = uuid(); set("uid", null); persist(); },
    flush: flush,
    push: function (a) { api[a[0]].apply(api, a.slice(1)); }
  };
  w.lr = api;
  var s = d.currentScript, key = s && s.getAttribute("data-write-key");
  if (key) api.init({ writeKey: key, host: s.getAttribute("data-host") || s.src.replace(/\/v1\/lr[^\/]*\.js.*$/, ""),
    requireConsent: s.hasAttribute("data-require-consent") });
  if (pending && pending.length) for (var i = 0; i < pending.length; i++) api.push(pending[i]);
})(window, document);
"""##
}
