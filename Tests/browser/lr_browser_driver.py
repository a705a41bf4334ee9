"""Drives headless Chromium (Debian's chromium + chromium-driver, Selenium from PyPI) against a
running leadrouter, from pages served by this script on two other loopback origins: one the
service allows (CORS), one it does not. Run by BrowserTests (Tests/LeadRouterTests), which
starts the service, then checks what landed in PostgreSQL.

    python3 lr_browser_driver.py LEADROUTER_URL WRITE_KEY READ_KEY ALLOWED_PORT REFUSED_PORT

Prints one JSON line per step ("step": …) and exits non-zero on the first failed expectation.
"""
import http.server, json, sys, tempfile, threading, time, urllib.request, urllib.error

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

LR, KEY, READ_KEY, ALLOWED, REFUSED = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

# A shop page with lr.js: calls queued before the script loads, then the tag itself.
LRJS_PAGE = f"""<!doctype html><html><head><title>Trail shoes</title>
<script>window.lr = window.lr || []; lr.push(["identify", "browser-user-1", {{"email": "browser.user@example.com"}}]);</script>
<script src="{LR}/v1/lr.js" data-write-key="{KEY}" async></script></head><body>shop</body></html>"""

CONSENT_PAGE = f"""<!doctype html><html><head><title>Consent</title>
<script src="{LR}/v1/lr.js" data-write-key="{KEY}" data-require-consent></script></head><body>consent</body></html>"""

# What analytics.js does from a page (analytics-next's fetch dispatcher: text/plain bodies with
# the writeKey inside, keepalive; sendBeacon when the page goes), plus a page script posting
# application/json with Basic auth, which the browser preflights.
AJS_PAGE = """<!doctype html><html><head><title>Pricing</title></head><body><script>
async function send(base, key, prefix) {
  const now = new Date().toISOString();
  const context = { library: { name: "analytics.js", version: "npm:next-1.81.0" },
    page: { path: "/pricing", url: location.href, referrer: "https://www.google.com/", search: location.search, title: document.title },
    campaign: { source: "google", medium: "cpc", name: "b2b-spring" }, userAgent: navigator.userAgent, locale: "en-US" };
  const anon = prefix + "-anon";
  const common = { anonymousId: anon, timestamp: now, sentAt: now, writeKey: key, context: context, integrations: {} };
  const out = {};
  async function attempt(name, f) {
    try { const r = await f(); out[name] = { status: r.status, body: await r.text() }; }
    catch (e) { out[name] = { error: String(e) }; }
  }
  await attempt("t", () => fetch(base + "/v1/t", { method: "POST", keepalive: true, headers: { "Content-Type": "text/plain" },
    body: JSON.stringify(Object.assign({ type: "track", event: "Pricing Viewed", properties: { plan: "team" }, messageId: prefix + "-t" }, common)) }));
  await attempt("i", () => fetch(base + "/v1/i", { method: "POST", credentials: "omit",
    headers: { "Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":") },
    body: JSON.stringify({ type: "identify", userId: prefix + "-user", anonymousId: anon, traits: { email: prefix + ".user@example.com" },
                           messageId: prefix + "-i", timestamp: now, context: context }) }));
  out.beacon = navigator.sendBeacon(base + "/v1/p", new Blob([JSON.stringify(Object.assign(
    { type: "page", name: "Pricing", properties: { path: "/pricing", url: location.href, title: "Pricing" }, messageId: prefix + "-p" }, common))],
    { type: "text/plain" }));
  await attempt("b", () => fetch(base + "/v1/b", { method: "POST", keepalive: true, headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ batch: [Object.assign({ type: "track", event: "Demo Requested", properties: { topic: "team kits" },
      messageId: prefix + "-b" }, common)], sentAt: now, writeKey: key }) }));
  return out;
}
</script>pricing</body></html>"""

PAGES = {"/shop/landing": LRJS_PAGE, "/consent": CONSENT_PAGE, "/pricing": AJS_PAGE, "/bye": "<!doctype html><title>bye</title>bye"}


class Static(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGES.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404); self.end_headers(); return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


for port in (ALLOWED, REFUSED):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Static)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def report(step, **facts):
    print(json.dumps(dict(step=step, **facts)), flush=True)


def fail(message):
    report("failed", message=message)
    sys.exit(1)


def eventually(what, condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def lead(query):
    request = urllib.request.Request(f"{LR}/v1/leads?{query}", headers={"Authorization": "Bearer " + READ_KEY})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


options = Options()
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="lr-chromium-")):
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
browser.set_script_timeout(20)
try:
    shop = f"http://127.0.0.1:{ALLOWED}"
    # 1. lr.js from another origin: queued identify, automatic page view with the campaign,
    #    e-commerce helpers, an SPA navigation, batches over fetch.
    browser.get(shop + "/shop/landing?utm_source=newsletter&utm_medium=email&utm_campaign=fall-sale")
    eventually("lr.js to load", lambda: browser.execute_script("return !!(window.lr && window.lr.VERSION)"))
    anonymous_id = browser.execute_script("return lr.anonymousId()")
    browser.execute_script("""
        lr.productViewed({product_id: "trail-runner-2", category: "running-shoes", price: 120, currency: "EUR"});
        history.pushState({}, "", "/shipping");
        lr.addedToCart({product_id: "trail-runner-2", category: "running-shoes", price: 120, quantity: 1, currency: "EUR"});
        lr.checkoutStarted({order_id: "o-browser-1", value: 120, revenue: 120, currency: "EUR"});
        lr.orderCompleted({order_id: "o-browser-1", revenue: 120, currency: "EUR",
                           products: [{product_id: "trail-runner-2", price: 120, quantity: 1}]});
    """)
    eventually("lr.js to send its queue", lambda: browser.execute_script("return localStorage.getItem('lr_q') === null"))
    cookie = browser.execute_script("return document.cookie")
    if "lr_aid=" + anonymous_id not in cookie:
        fail("no first-party anonymousId cookie: " + cookie)
    report("lrjs", anonymous_id=anonymous_id)

    # 2. sendBeacon on page hide: a track call, then the page goes away at once.
    browser.execute_script("""lr.track("Guide Downloaded", {topic: "running-shoes"}); window.location.href = "/bye";""")
    eventually("the next page", lambda: browser.execute_script("return document.title") == "bye")
    report("beacon")

    # 3. Consent required: nothing sent, nothing stored, until lr.consent(true).
    browser.execute_script("localStorage.clear(); document.cookie = 'lr_aid=; path=/; max-age=0';")
    browser.get(shop + "/consent")
    eventually("lr.js to load", lambda: browser.execute_script("return !!(window.lr && window.lr.VERSION)"))
    consent_id = browser.execute_script("""lr.track("Pricing Viewed", {plan: "consent"}); return lr.anonymousId();""")
    time.sleep(3)  # longer than the flush interval
    if lead("anonymous_id=" + consent_id) is not None:
        fail("lr.js sent before consent")
    stored = browser.execute_script("return [document.cookie, localStorage.length]")
    if "lr_aid" in stored[0] or stored[1] != 0:
        fail("lr.js stored something before consent: %r" % stored)
    browser.execute_script("lr.consent(true)")
    eventually("the consented events", lambda: lead("anonymous_id=" + consent_id))
    report("consent", anonymous_id=consent_id)

    # 4. analytics.js's requests from the allowed origin, and from one that is not allowed.
    results = {}
    for name, port in (("allowed", ALLOWED), ("refused", REFUSED)):
        browser.get(f"http://127.0.0.1:{port}/pricing?utm_source=google&utm_medium=cpc")
        results[name] = browser.execute_async_script(
            "const done = arguments[arguments.length - 1]; send(arguments[0], arguments[1], arguments[2]).then(done, e => done({error: String(e)}));",
            LR, KEY, "ajs-" + name)
        report("ajs", origin=name, results=results[name])
    allowed, refused = results["allowed"], results["refused"]
    for request in ("t", "i", "b"):
        if allowed.get(request, {}).get("status") != 200:
            fail("allowed origin, /v1/%s: %r" % (request, allowed.get(request)))
        if "error" not in refused.get(request, {}):
            fail("a refused origin read the answer of /v1/%s: %r" % (request, refused.get(request)))
    if allowed.get("beacon") is not True:
        fail("sendBeacon was not queued")
    time.sleep(1)  # let the beacons of both pages arrive before the test looks
    report("done")
finally:
    browser.quit()
