import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The DESIGN.md §7 sample ruleset, used by many tests.
let sampleYAML = """
version: 1
events:
  aliases: { "Product Viewed": product_viewed, "Product Added": added_to_cart,
             "Checkout Started": checkout_started, "Order Completed": completed_checkout,
             "Pricing Requested": requested_pricing, "Unsubscribed": unsubscribed }
sources:
  - { channel: paid_search, when: 'event.context.campaign.medium in ["cpc", "ppc", "paid_search"]' }
  - { channel: email_newsletter, when: 'event.context.campaign.medium == "email"' }
stages:
  - { stage: retention,     when: lead.customer }
  - { stage: decision,      when: 'count(added_to_cart, 14d) >= 1 or count(requested_pricing, 30d) >= 1' }
  - { stage: consideration, when: 'count(product_viewed, 30d) >= 2' }
  - { stage: awareness,     when: 'true' }
statuses:
  on_event: { requested_pricing: qualified, completed_checkout: converted, unsubscribed: unsubscribed }
scoring:
  half_life: 14d
  rules:
    - { when: 'event.type == "product_viewed"', points: 3, cap: 30 }
    - { when: 'event.type == "page_viewed" and event.properties.path in ["/shipping", "/returns"]', points: 5 }
    - { when: 'event.type == "requested_pricing"', points: 40 }
  bands: [ { below: 30, action: nurture_only }, { below: 60, action: product_email_series },
           { action: route_to_sales } ]
suppress:
  ads: 'lead.customer'
  email: 'lead.status == "unsubscribed"'
teams:
  inside-sales:
    strategy: round_robin
    members: [ { id: rep_anna, capacity: 25, territories: [DE, AT, CH] }, { id: rep_ben, capacity: 25 } ]
owners: [sales]
segments:
  - name: decision.high-intent.cart
    description: Added to cart or asked for pricing recently
    owner: sales
    priority: 100
    enter: 'count(added_to_cart, 7d) >= 1 or count(requested_pricing, 30d) >= 1'
    exit:  'count(completed_checkout, 1d) >= 1 or inactive(14d) or lead.status == "unsubscribed"'
    route:
      email: { sequence: checkout-help }
      ads:   { audience: cart-abandoners, landing_page: /checkout/help }
      sales: { queue: high-intent, team: inside-sales, sla: 15m }
"""

let t0 = Timestamp(milliseconds: 1_795_000_000_000) // 2026-11-18T...
let second: Int64 = 1000, minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000

func at(_ offset: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + offset) }

func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> Ruleset {
    do { return try Ruleset.load(yaml: yaml, fileName: "segments.yaml").ruleset } catch {
        XCTFail("load failed:\n\(error.formatted)", file: file, line: line)
        fatalError()
    }
}

func loadErrors(_ yaml: String) -> [String] {
    do {
        _ = try Ruleset.load(yaml: yaml, fileName: "r.yaml")
        return []
    } catch { return error.diagnostics.map(\.description) }
}

func ev(_ name: String, _ offset: Int64, properties: [String: Value] = [:], context: [String: Value] = [:]) -> Event {
    Event(name: name, properties: properties, context: context, occurredAt: at(offset))
}

/// Applies events in order, each evaluated at its own time unless `now` is given.
func runEvents(_ engine: Engine, _ events: [Event], state: LeadState = LeadState(), now: Timestamp? = nil) -> Evaluation {
    var s = state
    var last: Evaluation?
    for e in events {
        let r = engine.evaluate(state: s, event: e, now: now ?? e.occurredAt)
        s = r.newState
        last = r
    }
    return last!
}

/// A ruleset with one segment `decision.test.expr` entered by `expr` (event types `a`, `b`, `c`).
func exprRuleset(_ expr: String, exit: String?, file: StaticString = #filePath, line: UInt = #line) -> Engine {
    let yaml = """
    version: 1
    events: { types: [a, b, c] }
    segments:
      - name: decision.test.expr
        enter: '\(expr.replacingOccurrences(of: "'", with: "''"))'
    \(exit.map { "    exit: '\($0)'" } ?? "")
        route: { email: { sequence: s } }
    """
    return Engine(load(yaml, file: file, line: line))
}

/// Whether `expr` holds at `now` after the events (each applied at its own time).
func holds(_ expr: String, events: [Event] = [], state: LeadState = LeadState(), now: Timestamp? = nil,
           file: StaticString = #filePath, line: UInt = #line) -> Bool {
    let engine = exprRuleset(expr, exit: "false", file: file, line: line)
    var s = state
    for e in events { s = engine.evaluate(state: s, event: e, now: e.occurredAt).newState }
    s.memberships = [:]
    let r = engine.evaluate(state: s, event: nil, now: now ?? events.last?.occurredAt ?? t0)
    return r.decision.segments.current == ["decision.test.expr"]
}

/// Whether `expr` holds while `event` is the current event.
func holdsOn(_ expr: String, _ event: Event, state: LeadState = LeadState()) -> Bool {
    let r = exprRuleset(expr, exit: nil).evaluate(state: state, event: event, now: event.occurredAt)
    return r.decision.segments.current == ["decision.test.expr"]
}
