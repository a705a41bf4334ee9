import Foundation
import Logging
import Postgres
import XCTest
@testable import Ingest
@testable import LeadStore

/// Lead rows the service cannot decode (here: a BC `last_event_at`, as stored before input
/// validation refused `"timestamp": "0000-06-01…"`) are quarantined: logged once, counted,
/// skipped, listed at `/v1/quarantine`, and they never stop the sweeper or other leads.
final class QuarantineTests: XCTestCase {
    static let quarantinedType = "https://leadrouter.dev/problems/lead-quarantined"

    /// Gives `userId`'s lead a BC `last_event_at` by raw SQL (what the service cannot decode).
    func corrupt(_ service: TestService, userId: String) throws -> String {
        let conn = try service.connection()
        _ = try conn.execute("UPDATE leads SET last_event_at = '0001-06-01 00:00:00+00 BC' WHERE user_id = \(userId)")
        return try conn.query("SELECT id::text FROM leads WHERE user_id = \(userId)").scalar(String.self)
    }

    func track(_ service: TestService, _ userId: String, at date: Date) throws -> String {
        let r = try service.client().json("POST", "/v1/events", key: service.ingestKey, [
            "userId": userId, "event": "Product Viewed", "timestamp": iso(date)])
        XCTAssertEqual(r.status, 200, r.text)
        return try XCTUnwrap(r.json["lead_id"] as? String)
    }

    func testTheSweeperQuarantinesAnUndecodableRowAndSweepsTheOthersOnTime() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "quarantine") { _ in captured.handler() }
        logger.logLevel = .info
        let service = try TestService(test: self, rulesYAML: SweeperTests.rules, logger: logger)
        let client = try service.client()
        let t0 = service.clock.now
        let good = try track(service, "u-good", at: t0)
        _ = try track(service, "u-bad", at: t0)
        let bad = try corrupt(service, userId: "u-bad")

        // Both are due; the batch holds both: the bad row is quarantined, the good lead exits on time.
        service.clock.set(t0.addingTimeInterval(14 * 86_400 + 2))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 2)
        var r = try client.json("GET", "/v1/leads/\(good)", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["segments"] as? [String], [])
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history WHERE change = 'exited'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM quarantined_leads WHERE lead_id = '\(bad)' AND attempts = 1"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE id = '\(bad)' AND next_evaluation_at IS NULL"), 1,
                       "its schedule is cleared: the sweeper does not pick it again and again")
        let reason = try service.connection().query("SELECT reason FROM quarantined_leads").scalar(String.self)
        XCTAssertTrue(reason.contains("last_event_at"), reason)

        // Not picked again; later leads are still swept.
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 0)
        let t1 = service.clock.now
        let later = try track(service, "u-later", at: t1)
        service.clock.set(t1.addingTimeInterval(14 * 86_400 + 2))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        r = try client.json("GET", "/v1/leads/\(later)", key: service.readKey)
        XCTAssertEqual(r.json["segments"] as? [String], [], r.text)

        // Logged once (one line), counted.
        let lines = captured.lines.filter { $0.contains("lead quarantined") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        lines.forEach { assertOneLine($0) }
        XCTAssertTrue(lines.first?.contains(bad) == true)
        XCTAssertEqual(service.app.pipeline.service.counters.snapshot.quarantinedLeads, 1)
    }

    func testMessagesOfAQuarantinedLeadFailAloneWith409AndTheRestOfTheBatchCommits() throws {
        let service = try TestService(test: self, rulesYAML: SweeperTests.rules)
        let client = try service.client()
        let t0 = service.clock.now
        _ = try track(service, "u-good", at: t0)
        _ = try track(service, "u-bad", at: t0)
        let bad = try corrupt(service, userId: "u-bad")
        let events = try service.count("SELECT count(*) FROM events")

        var r = try client.json("POST", "/v1/batch", key: service.ingestKey, ["batch": [
            ["type": "track", "userId": "u-good", "event": "Product Viewed", "messageId": "b-0"],
            ["type": "track", "userId": "u-bad", "event": "Product Viewed", "messageId": "b-1"],
            ["type": "track", "userId": "u-new", "event": "Product Viewed", "messageId": "b-2"]]])
        XCTAssertEqual(r.status, 200, r.text)
        let rejected = r.json["rejected"] as? [[String: Any]] ?? []
        XCTAssertEqual(rejected.map { $0["index"] as? Int }, [1], r.text)
        XCTAssertEqual(rejected.first?["messageId"] as? String, "b-1")
        let error = (rejected.first?["errors"] as? [[String: Any]])?.first
        XCTAssertEqual(error?["pointer"] as? String, "/batch/1")
        XCTAssertTrue((error?["detail"] as? String)?.contains("/v1/quarantine") == true, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), events + 2, "the good messages were applied")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE message_id = 'b-1'"), 0)

        r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-bad", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 409, r.text)
        XCTAssertEqual(r.json["type"] as? String, Self.quarantinedType)
        XCTAssertTrue((r.json["detail"] as? String)?.contains("GET /v1/quarantine") == true, r.text)
        XCTAssertEqual(try service.count("SELECT attempts FROM quarantined_leads WHERE lead_id = '\(bad)'"), 2)
        XCTAssertEqual(service.app.pipeline.service.counters.snapshot.quarantinedMessages, 2)
        // The server still ingests others.
        r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-good", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
    }

    /// In ONE lane batch (one transaction): the message of the undecodable lead fails before
    /// anything of it is staged, the others commit with it — no fallback to one transaction each.
    func testALaneBatchFailsOnlyTheMessageOfTheUndecodableLead() throws {
        let service = try TestService(test: self, rulesYAML: SweeperTests.rules)
        _ = try track(service, "u-good", at: service.clock.now)
        _ = try track(service, "u-bad", at: service.clock.now)
        let bad = try corrupt(service, userId: "u-bad")
        let ingest = service.app.pipeline.service
        let messages = try ["u-good", "u-bad", "u-new"].map {
            try SegmentMessageDecoder().decodeSingle(Array(#"{"userId":"\#($0)","event":"Product Viewed"}"#.utf8), kind: .track,
                                                      receivedAt: service.clock.now)
        }
        let results = try ingest.pool.withPipelinedTransaction { transaction in
            try ingest.applyBatchEach(messages.map { ($0, UUID()) }, in: transaction)
        }
        XCTAssertNotNil(try? results[0].get())
        XCTAssertNotNil(try? results[2].get())
        guard case .failure(let failure as UndecodableLead) = results[1] else { return XCTFail("\(results[1])") }
        XCTAssertEqual(failure.id.uuidString.lowercased(), bad)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'u-new'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 4)
    }

    func testReadsAre409AndTheOperatorListsAndReleasesTheLead() throws {
        let service = try TestService(test: self, rulesYAML: SweeperTests.rules)
        let client = try service.client()
        _ = try track(service, "u-bad", at: service.clock.now)
        let bad = try corrupt(service, userId: "u-bad")
        for path in ["/v1/leads/\(bad)", "/v1/leads?user_id=u-bad", "/v1/leads/\(bad)/segments", "/v1/leads/\(bad)/decisions"] {
            let r = try client.json("GET", path, key: service.readKey)
            XCTAssertEqual(r.status, 409, "\(path): \(r.text)")
            XCTAssertEqual(r.json["type"] as? String, Self.quarantinedType, path)
        }
        var r = try client.json("PATCH", "/v1/leads/\(bad)", key: service.adminKey, ["status": "contacted"])
        XCTAssertEqual(r.status, 409, r.text)

        r = try client.json("GET", "/v1/quarantine?limit=10", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        let entries = r.json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.map { $0["lead_id"] as? String }, [bad])
        XCTAssertEqual(entries.first?["attempts"] as? Int, 5)
        XCTAssertNotNil(entries.first?["first_seen"] as? String)
        XCTAssertNotNil(entries.first?["last_seen"] as? String)
        XCTAssertTrue((entries.first?["reason"] as? String)?.contains("last_event_at") == true)
        XCTAssertTrue(r.json["next_cursor"] is NSNull)
        XCTAssertEqual(try client.json("GET", "/v1/quarantine", key: service.readKey).status, 403)

        // The operator repairs the row, then releases it: scheduled again, readable.
        _ = try service.connection().execute("UPDATE leads SET last_event_at = first_seen_at WHERE id = \(UUID(uuidString: bad)!)")
        r = try client.json("DELETE", "/v1/quarantine/\(bad)", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM quarantined_leads"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE id = '\(bad)' AND next_evaluation_at IS NOT NULL"), 1)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(bad)", key: service.readKey).status, 200)
        service.clock.advance(1000 * 86_400)  // past the database's now(), which scheduled it
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        XCTAssertEqual(try client.json("DELETE", "/v1/quarantine/\(bad)", key: service.adminKey).status, 404)
    }

    func testTheQuarantineListIsPaged() throws {
        let service = try TestService(test: self, rulesYAML: SweeperTests.rules)
        let client = try service.client()
        var ids: [String] = []
        for i in 0..<3 {
            _ = try track(service, "u-\(i)", at: service.clock.now)
            ids.append(try corrupt(service, userId: "u-\(i)"))
        }
        service.clock.advance(15 * 86_400)
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 3)
        var seen: [String] = []
        var cursor: String?
        repeat {
            let r = try client.json("GET", "/v1/quarantine?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: service.adminKey)
            XCTAssertEqual(r.status, 200, r.text)
            seen += (r.json["data"] as? [[String: Any]] ?? []).compactMap { $0["lead_id"] as? String }
            cursor = r.json["next_cursor"] as? String
        } while cursor != nil
        XCTAssertEqual(seen, ids.sorted())
    }
}
