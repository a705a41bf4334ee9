import Foundation
import LeadStore
import Segmentation
import XCTest

/// `GET /v1/segments/{name}/members?order=score` on a segment with its own `score:` ranks its
/// members by that score decayed to now, pages with a (rank key, lead id) cursor that stays put
/// while time passes and scores change, and sales queue items from that segment take the segment
/// score as their priority. Over HTTP against PostgreSQL.
final class SegmentRankTests: XCTestCase {
    static let scored = "awareness.mid-intent.viewer"
    static let plain = "awareness.low-intent.any"
    static let halfLife = 7.0 * 86_400
    static let yaml = """
        version: 1
        events:
          aliases: { "Product Viewed": product_viewed, "Pricing Requested": requested_pricing, "Page Viewed": page_viewed }
        stages:
          - { stage: awareness, when: 'true' }
        teams:
          inside-sales:
            strategy: round_robin
            members: [ { id: rep_anna, capacity: 1000 } ]
        segments:
          - name: \(scored)
            priority: 10
            enter: 'count(product_viewed, 30d) >= 1'
            score:
              half_life: 7d
              rules:
                - { when: 'event.type == "product_viewed"', points: 10 }
                - { when: 'event.type == "requested_pricing"', points: -25 }
            route:
              sales: { queue: high-intent, team: inside-sales, sla: 1h }
          - name: \(plain)
            priority: 5
            enter: 'count(product_viewed, 30d) >= 1'
            route: { email: { sequence: picks } }
        """

    let start = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z
    var service: TestService!
    var client: TestHTTPClient!

    override func setUpWithError() throws {
        service = try TestService(test: self, start: start, rulesYAML: Self.yaml)
        client = try service.client()
    }

    /// Sends `event` for `user` at `seconds` after `start` (the clock moves there); the decision.
    @discardableResult
    func send(_ user: String, _ event: String, at seconds: Double) throws -> [String: Any] {
        service.clock.set(start.addingTimeInterval(seconds))
        let body: [String: Any] = ["userId": user, "event": event, "timestamp": iso(service.clock.now), "messageId": UUID().uuidString]
        let r = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(r.status, 200, r.text)
        return r.json
    }

    /// A journey per lead: views (and a pricing request for some) spread over twelve days, so
    /// that decay, not the number of views, decides some places. Returns the expected score of
    /// each user at `now` (the sum of each event's points decayed from its time) and the lead ids.
    func seed(leads: Int) throws -> (expected: [String: Double], ids: [String: String], now: Double) {
        var events: [(at: Double, user: String, event: String, points: Double)] = []
        for i in 0..<leads {
            let user = "u\(i)"
            let first = Double((i * 7) % 11) * 86_400 + Double(i) * 60
            for k in 0..<(1 + (i * 5) % 4) {
                events.append((first + Double(k) * 3_600, user, "Product Viewed", 10))
            }
            if i % 5 == 3 { events.append((first + 20 * 3_600, user, "Pricing Requested", -25)) }
        }
        events.sort { $0.at < $1.at }
        var ids: [String: String] = [:]
        for e in events {
            let d = try send(e.user, e.event, at: e.at)
            ids[e.user] = d["lead_id"] as? String
        }
        let now = 12 * 86_400.0
        service.clock.set(start.addingTimeInterval(now))
        var expected: [String: Double] = [:]
        for e in events { expected[e.user, default: 0] += e.points * pow(0.5, (now - e.at) / Self.halfLife) }
        return (expected, ids, now)
    }

    /// Every page of the scored segment by score, `limit` per page.
    func pages(limit: Int, from cursor: String? = nil, between: (Int) throws -> Void = { _ in }) throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor = cursor
        var page = 0
        repeat {
            let r = try client.json("GET", "/v1/segments/\(Self.scored)/members?order=score&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""),
                                    key: service.readKey)
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json["ranked_by"] as? String, "segment_score")
            items += r.json["data"] as? [[String: Any]] ?? []
            cursor = r.json["next_cursor"] as? String
            page += 1
            if cursor != nil { try between(page) }
        } while cursor != nil && page < 100
        return items
    }

    func testMembersRankBySegmentScoreDecayedToNow() throws {
        let (expected, ids, _) = try seed(leads: 12)
        let listed = try pages(limit: 5)
        let byId = Dictionary(uniqueKeysWithValues: ids.map { ($0.value, $0.key) })
        let order = expected.sorted { $0.value > $1.value }.map { ids[$0.key]! }
        XCTAssertEqual(listed.compactMap { $0["lead_id"] as? String }, order)
        for item in listed {
            let user = try XCTUnwrap(byId[item["lead_id"] as? String ?? ""])
            XCTAssertEqual(item["segment_score"] as? Double ?? .nan, expected[user]!, accuracy: 0.002, user)
        }
        // Decay decides: more views long ago rank below fewer views lately, and negative scores last.
        XCTAssertTrue(expected.values.contains { $0 < 0 }, "the journeys include a negative score")
        XCTAssertLessThan(listed.last?["segment_score"] as? Double ?? 0, 0)

        // The order is the same a week later with no event (the keys are not rewritten by decay).
        service.clock.set(start.addingTimeInterval(19 * 86_400))
        XCTAssertEqual(try pages(limit: 50).compactMap { $0["lead_id"] as? String }, order)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships WHERE segment = '\(Self.scored)' AND score_at IS NULL"), 0)
    }

    func testCursorPagingStaysStableWhileTimePassesAndScoresChange() throws {
        let (expected, ids, now) = try seed(leads: 12)
        let order = expected.sorted { $0.value > $1.value }.map(\.key)
        var changed: Set<String> = []
        let listed = try pages(limit: 4) { page in
            guard page == 1 else { return }
            // Between pages: two days pass, a lead already listed gains points (it moves further
            // up, behind the cursor) and the lowest one loses points (it stays after the cursor).
            try self.send(order[0], "Product Viewed", at: now + 2 * 86_400)
            try self.send(order.last!, "Pricing Requested", at: now + 2 * 86_400 + 60)
            changed = [order[0], order.last!]
        }
        let listedIds = listed.compactMap { $0["lead_id"] as? String }
        XCTAssertEqual(listedIds.count, Set(listedIds).count, "no member twice")
        // Every member whose score did not change is listed once, in the original order.
        let unchanged = order.filter { !changed.contains($0) }.map { ids[$0]! }
        XCTAssertEqual(listedIds.filter { unchanged.contains($0) }, unchanged)
        XCTAssertEqual(listedIds.last, ids[order.last!])
    }

    func testSegmentWithoutScoreRanksByLeadScoreAndBadCursorIs400() throws {
        _ = try seed(leads: 4)
        let plain = try client.json("GET", "/v1/segments/\(Self.plain)/members?order=score", key: service.readKey)
        XCTAssertEqual(plain.status, 200, plain.text)
        XCTAssertEqual(plain.json["ranked_by"] as? String, "lead_score")
        XCTAssertNil((plain.json["data"] as? [[String: Any]])?.first?["segment_score"])
        let byEntry = try client.json("GET", "/v1/segments/\(Self.scored)/members", key: service.readKey)
        XCTAssertEqual(byEntry.json["order"] as? String, "entered_at")
        XCTAssertNil(byEntry.json["ranked_by"])
        let bad = try client.json("GET", "/v1/segments/\(Self.scored)/members?order=score&cursor=nope", key: service.readKey)
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertEqual((bad.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, "/query/cursor")
    }

    /// Queue items from the scored segment carry the segment score (not the lead score) as their
    /// priority, so claims by priority follow it.
    func testQueueItemsTakeTheSegmentScoreAsPriority() throws {
        let (expected, ids, _) = try seed(leads: 6)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        // Each lead's latest decision set its item's priority: the segment score then (3 decimals).
        let conn = try service.connection()
        for (user, id) in ids {
            let priority = try conn.query("SELECT priority FROM queue_items WHERE lead_id = \(UUID(uuidString: id)!) AND state = 'open'").scalar(Double.self)
            let decision = try client.json("GET", "/v1/leads/\(id)/decisions?limit=1", key: service.readKey)
            let scores = (decision.json["data"] as? [[String: Any]])?.first?["segment_scores"] as? [String: Double]
            XCTAssertEqual(priority, scores?[Self.scored] ?? .nan, accuracy: 0.0005, user)
        }
        var claimed: [String] = []
        for _ in ids {
            let r = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["order": "priority", "limit": 1])
            XCTAssertEqual(r.status, 200, r.text)
            claimed += (r.json["data"] as? [[String: Any]] ?? []).compactMap { $0["lead_id"] as? String }
        }
        // Stored priorities are the scores at each lead's last event; decayed to one `now` they
        // keep the order only when the same half-life applies, so compare with the stored ones.
        let stored = try conn.query("SELECT lead_id FROM queue_items ORDER BY priority DESC, created_at, id").map {
            try $0.decode(UUID.self, "lead_id").uuidString.lowercased()
        }
        XCTAssertEqual(claimed, stored)
        XCTAssertEqual(Set(claimed), Set(ids.values))
        _ = expected
    }

    /// The rank key depends on the half-life: the re-evaluation after activating a version that
    /// changes it rewrites every scored membership's key.
    func testActivationWithANewHalfLifeRekeysMembers() throws {
        _ = try seed(leads: 6)
        let v2 = Self.yaml.replacingOccurrences(of: "version: 1", with: "version: 2").replacingOccurrences(of: "half_life: 7d", with: "half_life: 1d")
        let pushed = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": v2, "note": "faster decay"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, [:]).status, 200)
        while try !service.app.sweeper.reevaluationBatch(limit: 4).finished {}
        let rows = try service.connection().query("""
            SELECT score, (extract(epoch FROM score_at) * 1000)::int8 AS at, score_rank FROM memberships WHERE segment = \(Self.scored)::text
            """)
        XCTAssertEqual(rows.count, 6)
        for row in rows {
            let key = SegmentRank.key(score: try row.decode(Double.self, "score"), at: try row.decode(Int64.self, "at"), halfLife: 86_400_000)
            XCTAssertEqual(try row.decode(Double.self, "score_rank"), key, accuracy: 1e-9 * abs(key))
        }
    }
}
