import Foundation
import Segmentation

/// Realistic traffic for the sample ruleset: per lead a profile and a journey of Segment-spec
/// events (product and page views, carts, checkouts, emails, forms) spread over weeks, with some
/// late events. Built up front so the measured loop only evaluates (no JSON decoding).
struct SampleJourney {
    var profile: LeadState
    /// (event, received at) in arrival order.
    var events: [(Event, Timestamp)]
}

enum SampleWorkload {
    static let start: Int64 = 1_793_610_000_000  // 2026-11-02T09:00:00Z

    static func journeys(count: Int, eventsPerLead: Int, seed: UInt64) -> [SampleJourney] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in journey(events: eventsPerLead, rng: &rng) }
    }

    static func journey(events count: Int, rng: inout SeededGenerator) -> SampleJourney {
        var profile = LeadState(email: "lead\(rng.next() % 100_000)@example.com",
                                country: rng.pick(["DE", "FR", "GB", "US", "AU"]),
                                shipToRegion: rng.pick(["EU", "UK", "US", "APAC"]))
        if rng.chance(0.3) {
            profile.company = .init(domain: "company\(rng.next() % 1000).example", size: Double(rng.pick([5, 40, 150, 500, 3000])),
                                    industry: rng.pick(["fitness", "retail", "hospitality", "banking"]))
        }
        var now = start
        var events: [(Event, Timestamp)] = []
        for _ in 0..<count {
            now += rng.pick([2_000, 30_000, 300_000, 3_600_000, 86_400_000, 3 * 86_400_000] as [Int64])
            var occurred = now
            if rng.chance(0.1) { occurred -= Int64.random(in: 0...(5 * 86_400_000), using: &rng) }
            events.append((event(at: occurred, rng: &rng), Timestamp(milliseconds: now)))
        }
        return SampleJourney(profile: profile, events: events)
    }

    static func event(at ms: Int64, rng: inout SeededGenerator) -> Event {
        let at = Timestamp(milliseconds: ms)
        let category = Value.string(rng.pick(["running-shoes", "skincare-sets", "socks", "accessories"]))
        var context: [String: Value] = [:]
        if rng.chance(0.2) {
            context["campaign"] = .object(["medium": .string(rng.pick(["cpc", "email", "paid_social", "affiliate"]))])
        }
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40:
            return Event(name: "Product Viewed", properties: ["category": category, "price": .number(Double(Int.random(in: 10...300, using: &rng)))],
                         context: context, occurredAt: at)
        case 40..<65:
            let path = rng.pick(["/", "/shipping", "/returns", "/guides/running", "/blog/skin", "/pricing"])
            return Event(name: "page_viewed", properties: ["path": .string(path)], context: context, occurredAt: at)
        case 65..<75:
            return Event(name: "Product Added", properties: ["category": category, "price": .number(Double(Int.random(in: 10...400, using: &rng))),
                                                            "quantity": .number(Double(Int.random(in: 1...3, using: &rng)))],
                         context: context, occurredAt: at)
        case 75..<80:
            return Event(name: "Checkout Started", properties: ["value": .number(Double(Int.random(in: 20...900, using: &rng)))], occurredAt: at)
        case 80..<88:
            return Event(name: "Email Link Clicked", context: context, occurredAt: at)
        case 88..<91:
            return Event(name: "Guide Downloaded", properties: ["topic": category], occurredAt: at)
        case 91..<93:
            return Event(name: "Order Completed", properties: ["revenue": .number(99)], occurredAt: at)
        case 93..<95:
            return Event(name: "Webinar Attended", occurredAt: at)
        case 95..<97:
            return Event(name: "Newsletter Subscribed", occurredAt: at)
        case 97..<99:
            return Event(name: rng.pick(["Pricing Requested", "Demo Requested"]), occurredAt: at)
        default:
            return Event(name: "Unsubscribed", occurredAt: at)
        }
    }
}
