"""Drives headless Chromium (Debian's chromium + chromium-driver, Selenium from PyPI) through
the /dashboard of a running leadrouter: the login form, the overview, a segment's detail and a
lead lookup. Run by DashboardBrowserTests (Tests/LeadRouterTests), which starts the service and
seeds a lead whose trait holds a <script>.

    python3 dashboard_driver.py LEADROUTER_URL READ_KEY SEGMENT LEAD_EMAIL SCREENSHOT_DIR

Prints one JSON line per step ("step": ...) and exits non-zero on the first failed expectation.
Screenshots are written to SCREENSHOT_DIR at 1280x800 and 390x844 (docs/images/ in the repo).
"""
import json, os, sys, tempfile, time, urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

LR, READ_KEY, SEGMENT, EMAIL, SHOTS = sys.argv[1:6]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def report(step, **facts):
    print(json.dumps(dict(step=step, **facts)), flush=True)


def fail(message):
    report("failed", message=message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def wait_for_path(path, timeout=20):
    """Clicks return before the next page loads: wait until the address ends with `path`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        url = browser.current_url
        if url.endswith(path) and browser.execute_script("return document.readyState") == "complete":
            return
        time.sleep(0.1)
    fail(f"expected {path}, at {browser.current_url}")


def no_console_errors(page):
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    check(not errors, f"console errors on {page}: {errors}")


def screenshots(name, scroll_to=None):
    """The viewport at each size; with `scroll_to` (a CSS selector), scrolled so that element is on top."""
    for label, (width, height) in SIZES.items():
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        if scroll_to:
            browser.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", scroll_to)
        else:
            browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(os.path.join(SHOTS, f"dashboard-{name}-{width}x{height}.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def points():
    return len(browser.find_elements(By.CSS_SELECTOR, "svg.chart circle.point"))


options = Options()
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="lr-dashboard-")):
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    # 1. Anonymous: sent to the form; log in with the read key (a real form post: Origin set by the browser).
    browser.get(LR + "/dashboard")
    wait_for_path("/dashboard/login")
    screenshots("login")
    browser.find_element(By.NAME, "key").send_keys(READ_KEY)
    browser.find_element(By.CSS_SELECTOR, "form[action='/dashboard/login'] button").click()
    wait_for_path("/dashboard")
    check(not any(c["name"] == "lr_dashboard" and not c.get("httpOnly") for c in browser.get_cookies()), "cookie not HttpOnly")
    check(browser.execute_script("return document.cookie").find("lr_dashboard") < 0, "cookie readable by scripts")
    # 2. Overview: sparklines with points.
    overview_points = points()
    check(overview_points > 0, "overview charts have no data points")
    # Drift alerts panel: the seeded unmapped events are listed, the one named like markup as text.
    drift_rows = browser.find_elements(By.CSS_SELECTOR, "#drift-alerts tr.drift-alert")
    check(len(drift_rows) >= 2, f"drift alerts panel has {len(drift_rows)} alerts")
    drift_text = browser.find_element(By.ID, "drift-alerts").text
    check("<script>alert('ev')</script>" in drift_text, "the markup-like event name is not shown as text: " + drift_text)
    check(browser.execute_script("return document.querySelectorAll('script').length") == 0, "a script element exists")
    funnel_points = len(browser.find_elements(By.CSS_SELECTOR, "#stage-funnel svg.chart circle.point"))
    check(funnel_points > 0, "the stage funnel has no data points")
    check(any(b.size["width"] > 1 for b in browser.find_elements(By.CSS_SELECTOR, "#stage-funnel rect.bar")), "the stage funnel bars are empty")
    no_console_errors("overview")
    report("overview", points=overview_points, drift_alerts=len(drift_rows), funnel_points=funnel_points,
           version=browser.find_element(By.ID, "ruleset-version").text)
    screenshots("overview")
    screenshots("overview-funnel", scroll_to="#stage-funnel")
    # 3. Segment detail, reached by its link.
    browser.find_element(By.CSS_SELECTOR, f"a[href='/dashboard/segments/{SEGMENT}']").click()
    wait_for_path("/dashboard/segments/" + SEGMENT)
    check(browser.find_element(By.TAG_NAME, "h1").text == SEGMENT, "segment page heading")
    detail_points = points()
    check(detail_points >= 30, f"segment chart has {detail_points} points")
    changes = browser.find_elements(By.CSS_SELECTOR, "#recent-changes tr.change")
    check(len(changes) >= 1, "no recent entries or exits on the segment page")
    check("decision #" in changes[0].text, "a change without its decision: " + changes[0].text)
    no_console_errors("segment")
    report("segment", points=detail_points, changes=len(changes))
    screenshots("segment")
    screenshots("segment-changes", scroll_to="#recent-changes-heading")
    # 4. Lead lookup through the header's search box; the <script> trait shows as text.
    browser.get(LR + "/dashboard/leads?q=" + urllib.parse.quote(EMAIL))
    profile = browser.find_element(By.CSS_SELECTOR, ".card pre").text
    check("<script>alert('lr')</script>" in profile, "the script trait is not shown as text: " + profile)
    check(browser.execute_script("return document.querySelectorAll('script').length") == 0, "a script element exists")
    events = browser.find_elements(By.CSS_SELECTOR, ".timeline.event")
    check(len(events) >= 3, f"the timeline has {len(events)} events")
    check(len(browser.find_elements(By.CSS_SELECTOR, ".timeline.entered")) >= 1, "the timeline has no entry")
    no_console_errors("lead")
    report("lead", events=len(events), decisions=len(browser.find_elements(By.CSS_SELECTOR, ".timeline.decision")))
    screenshots("lead")
    screenshots("lead-timeline", scroll_to="#timeline-heading")
    # 5. Log out: the overview is anonymous again.
    browser.find_element(By.CSS_SELECTOR, "form[action='/dashboard/logout'] button").click()
    wait_for_path("/dashboard/login")
    browser.get(LR + "/dashboard")
    wait_for_path("/dashboard/login")
    report("done")
finally:
    browser.quit()
