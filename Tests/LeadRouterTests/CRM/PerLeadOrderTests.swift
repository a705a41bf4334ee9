import Essentials
import Foundation
import LeadStore
import XCTest
@testable import Ingest

/// Per-lead order (issue 22): every message of one person lands in one lane in arrival order, so
/// a person's decisions are numbered in the order their messages were sent, whether the
/// messages carry only the anonymous id, only the user id or both.
final class PerLeadOrderTests: XCTestCase {
    func testABatchAndConcurrentRequestsMixingAnonymousAndIdentifiedMessagesDecideInSendOrder() throws {
        // Slow commits so that lanes fall behind and batch several messages each: with lanes
        // chosen by a message's first identity key, the anonymous and identified messages of one
        // person were applied by two lanes side by side.
        let service = try TestService(test: self) { options in
            options.ingestLanes = 4
            options.ingestBeforeCommit = { _ in usleep(30_000) }
        }
        let client = try service.client()
        let start = service.clock.now
        // An anonymous id whose key hashes to another lane than the user id's.
        func lane(_ json: String) throws -> Int {
            service.app.pipeline.laneIndex(for: try SegmentMessageDecoder().decodeSingle(Array(json.utf8), kind: .track, receivedAt: Date()))
        }
        let user = "u-order"
        let userLane = try lane(#"{"userId": "\#(user)", "event": "x"}"#)
        let anonymous = try XCTUnwrap((0..<100).map { "anon-order-\($0)" }.first { try! lane(#"{"anonymousId": "\#($0)", "event": "x"}"#) != userLane })

        func message(_ i: Int) -> [String: Any] {
            var m: [String: Any] = ["type": "track", "event": "Product Viewed", "properties": ["n": i], "messageId": "order-\(i)",
                                    "timestamp": iso(start.addingTimeInterval(Double(i)))]
            switch i % 3 {
            case 0: m["anonymousId"] = anonymous                          // before login, or a tab still anonymous
            case 1: m["anonymousId"] = anonymous; m["userId"] = user      // the browser after login
            default: m["userId"] = user                                   // the shop's backend
            }
            return m
        }
        let batch = (0..<30).map(message)
        let r = try client.json("POST", "/v1/batch", key: service.ingestKey, ["batch": batch])
        XCTAssertEqual(r.status, 200, r.text)

        // Then twelve requests from twelve connections while the lanes are still busy, each sent
        // once the server has routed the previous one: a fixed gap between sends (20 ms) let a
        // loaded client thread or a slow connect swap two arrivals, which is not what this tests.
        let group = DispatchGroup()
        let statuses = Locked<[Int]>([])
        let headers = ["Authorization": "Bearer \(service.ingestKey)", "Content-Type": "application/json"]
        let pipeline = service.app.pipeline
        for i in 30..<42 {
            var m = message(i)
            m.removeValue(forKey: "type")
            let body = Array(try JSONSerialization.data(withJSONObject: m))
            let routedBefore = pipeline.routedCount
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                let status = (try? service.client().request("POST", "/v1/track", headers: headers, body: body).status) ?? -1
                statuses.withLock { $0.append(status) }
            }
            let deadline = Date().addingTimeInterval(10)
            while pipeline.routedCount == routedBefore, Date() < deadline { usleep(1_000) }
            XCTAssertGreaterThan(pipeline.routedCount, routedBefore, "request \(i) was not routed within 10 s")
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(statuses.withLock { $0 }, Array(repeating: 200, count: 12))

        let lead = try XCTUnwrap(client.json("GET", "/v1/leads?user_id=\(user)", key: service.readKey).json["id"] as? String)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 1, "one person, one lead")
        // Every decision, newest first, five per page.
        var decisions: [[String: Any]] = []
        var cursor: String?
        repeat {
            let page = try client.json("GET", "/v1/leads/\(lead)/decisions?limit=5" + (cursor.map { "&cursor=\($0)" } ?? ""), key: service.readKey)
            XCTAssertEqual(page.status, 200, page.text)
            decisions += page.json["data"] as? [[String: Any]] ?? []
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        XCTAssertEqual(decisions.compactMap { $0["sequence"] as? Int }, Array((1...42).reversed()), "numbered 1…42, newest first")
        let sent = (0..<42).reversed().map { iso(start.addingTimeInterval(Double($0))) }
        XCTAssertEqual(decisions.compactMap { $0["occurred_at"] as? String }, sent,
                       "decision n evaluated message n: applied in the order sent")
    }

    func testTheRouteFollowsAKeysLastLaneAndWaitsForTheOtherLaneWhenKeysTie() {
        var routing = LaneRouting(lanes: 4)
        let a = IdentityKey(.anonymousId, "a"), u = IdentityKey(.userId, "u")
        let first = routing.route([a])
        XCTAssertEqual(first.after, [])
        // The user id alone: its own lane (by hash), unless it collides.
        let alone = routing.route([u])
        // The tie: both keys; the message follows the user id's lane and waits for the other.
        let tie = routing.route([u, a])
        XCTAssertEqual(tie.lane, alone.lane)
        XCTAssertEqual(tie.after, alone.lane == first.lane ? [] : [LaneMark(lane: first.lane, count: 1)])
        // From now on the anonymous id alone goes where the user id goes.
        XCTAssertEqual(routing.route([a]).lane, alone.lane)
        XCTAssertEqual(routing.route([a]).after, [])
    }
}

