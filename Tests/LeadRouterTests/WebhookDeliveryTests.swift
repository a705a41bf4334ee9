import Foundation
import Postgres
import XCTest
@testable import Cryptography
@testable import LeadStore
@testable import Webhooks

/// Outbox → deliveries → signed POSTs to a real receiver, against real PostgreSQL.
final class WebhookDeliveryTests: XCTestCase {
    static let secret = "whsec_delivery_tests_0123456789"

    func service(_ settings: WebhookSettings = testWebhookSettings()) throws -> TestService {
        try TestService(test: self) { options in
            options.webhooks = settings
        }
    }

    /// Every request carries a signature that verifies with the subscription's secret.
    func assertSigned(_ requests: [WebhookReceiver.Request], file: StaticString = #filePath, line: UInt = #line) {
        let now = Int(Date().timeIntervalSince1970)
        for request in requests {
            XCTAssertNoThrow(try SignatureScheme.verify(header: request.signature, body: request.body, secret: Array(Self.secret.utf8),
                                                        now: now, toleranceSeconds: 300), file: file, line: line)
            XCTAssertEqual(request.json["id"] as? String, request.eventId, file: file, line: line)
        }
    }

    func testEveryEventArrivesSignedAndInPerLeadOrderDespiteFailuresAndHangs() throws {
        let receiver = try WebhookReceiver { _ in
            let draw = Double.random(in: 0..<1)
            return draw < 0.30 ? .fail(500) : draw < 0.36 ? .hang(1.5) : .ok
        }
        defer { receiver.stop() }
        let service = try self.service(testWebhookSettings(workers: 4, responseTimeout: 0.5))
        let subscription = try service.subscribe(["url": receiver.url, "topics": ["lead.status_changed"], "secret": Self.secret])
        let leads = (0..<12).map { _ in UUID() }
        try service.writeOutbox(leads: leads, perLead: 10)

        try WebhookReceiver.eventually(timeout: 120, "every event delivered") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 120
        }
        let requests = receiver.requests
        let outboxIds = Set(try service.connection().query("SELECT id FROM outbox").map { "evt_\(try $0.decode(Int64.self, "id"))" })
        XCTAssertEqual(outboxIds.count, 120)
        XCTAssertEqual(Set(receiver.accepted.compactMap(\.eventId)), outboxIds, "every outbox event was accepted")
        XCTAssertGreaterThan(requests.filter { $0.answered == 500 }.count, 10, "the receiver did fail requests")
        XCTAssertGreaterThan(requests.filter { $0.answered == 0 }.count, 0, "the receiver did hang")
        let order = WebhookReceiver.perLeadOrder(requests)
        XCTAssertEqual(order.violations, [])
        for lead in leads { XCTAssertEqual(order.accepted[lead.uuidString.lowercased()], Array(0..<10)) }
        assertSigned(requests)
        XCTAssertTrue(requests.allSatisfy { $0.json["type"] as? String == "lead.status_changed" })
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries WHERE subscription_id = '\(subscription["id"] as! String)'"), 120)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox_pending"), 0)
    }

    /// Every outbox row waits for dispatch, whoever inserted it (the service, or plain SQL);
    /// dispatch takes the ids off `outbox_pending` and leaves the outbox rows as their writer
    /// made them (no new row versions), and a second dispatch finds nothing.
    func testDispatchDoesNotRewriteOutboxRows() throws {
        // No delivery threads: this test dispatches itself. The URL is never called; loopback is allowed explicitly.
        let service = try TestService(test: self) { $0.webhooks.allowPrivateNetworks = true }
        _ = try service.subscribe(["url": "http://127.0.0.1:9/hook", "topics": ["lead.status_changed"], "secret": Self.secret])
        try service.writeOutbox(leads: [UUID(), UUID(), UUID()], perLead: 4)
        let conn = try service.connection()
        try conn.execute("SELECT leadrouter_append_outbox('lead.status_changed', gen_random_uuid(), '{}')")
        let versions = "SELECT string_agg(concat(id, '@', ctid, '/', xmin), ',' ORDER BY id) AS v FROM outbox"
        let before = try conn.query(PostgresQuery(unsafeRaw: versions)).first!.decode(String.self, "v")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox_pending"), 13)
        let dispatched = try conn.withTransaction { try Store($0).dispatchOutbox(limit: 500) }
        XCTAssertEqual(dispatched, 13)
        XCTAssertEqual(try conn.query(PostgresQuery(unsafeRaw: versions)).first!.decode(String.self, "v"), before)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox_pending"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries"), 13)
        XCTAssertEqual(try conn.withTransaction { try Store($0).dispatchOutbox(limit: 500) }, 0)
    }

    /// The lease checks each candidate's per-lead order by index even with the plan plpgsql
    /// cached while `deliveries` was empty (generic after five runs, kept until an ANALYZE;
    /// migrations/0121): that plan scanned the whole table once per candidate, 50 × 400 rows
    /// here — and seconds a lease in the keep-up benchmark's stalls (docs/benchmarks/webhooks.md).
    func testLeasePlannedWhileDeliveriesWereEmptyReadsNoTableScan() throws {
        // No delivery threads: this test leases itself, on one connection (one plan cache).
        let service = try TestService(test: self) { $0.webhooks.allowPrivateNetworks = true }
        _ = try service.subscribe(["url": "http://127.0.0.1:9/hook", "topics": ["lead.status_changed"], "secret": Self.secret])
        let conn = try service.connection()
        for _ in 0..<8 { XCTAssertEqual(try Store(conn).leaseDeliveries(limit: 50, leaseSeconds: 60).count, 0) }
        try service.writeOutbox(leads: (0..<200).map { _ in UUID() }, perLead: 2)
        XCTAssertEqual(try conn.withTransaction { try Store($0).dispatchOutbox(limit: 1000) }, 400)
        let (leased, scanned) = try conn.withTransaction { conn in
            (try Store(conn).leaseDeliveries(limit: 50, leaseSeconds: 60).count,
             try conn.query("SELECT pg_stat_get_xact_tuples_returned('deliveries'::regclass) AS n").first!.decode(Int.self, "n"))
        }
        XCTAssertEqual(leased, 50)
        XCTAssertLessThan(scanned, 400, "rows of deliveries read by sequential scans in the lease's transaction")
    }

    func testDeadLetterAfterMaxAttemptsThenManualRetryDelivers() throws {
        let receiver = try WebhookReceiver { _ in .fail(503) }
        defer { receiver.stop() }
        let service = try self.service()
        let subscription = try service.subscribe(["url": receiver.url, "topics": ["lead.status_changed"], "secret": Self.secret,
                                                  "max_attempts": 3])
        let id = try XCTUnwrap(subscription["id"] as? String)
        let lead = UUID()
        try service.writeOutbox(leads: [lead], perLead: 1)
        let client = try service.client()
        var dead: [[String: Any]] = []
        try WebhookReceiver.eventually(timeout: 30, "dead-letter") {
            dead = try client.json("GET", "/v1/deliveries?status=dead&subscription=\(id)", key: service.adminKey).json["data"] as? [[String: Any]] ?? []
            return dead.count == 1
        }
        XCTAssertEqual(dead.first?["attempts"] as? Int, 3)
        XCTAssertEqual(dead.first?["last_status"] as? Int, 503)
        XCTAssertEqual(dead.first?["last_error"] as? String, "HTTP 503")
        XCTAssertEqual(receiver.requests.map(\.attempt), ["1", "2", "3"])
        XCTAssertEqual((try client.json("GET", "/v1/deliveries?status=failed", key: service.adminKey).json["data"] as? [[String: Any]])?.count, 0)

        // A dead delivery does not hold back the lead's later events.
        receiver.setBehaviour { _ in .ok }
        try service.writeOutbox(leads: [lead], perLead: 1)
        WebhookReceiver.eventually(timeout: 30, "the next event") { receiver.accepted.count == 1 }
        XCTAssertEqual((receiver.accepted[0].json["data"] as? [String: Any])?["seq"] as? String, "0")

        let deliveryId = try XCTUnwrap(dead.first?["id"] as? String)
        let retried = try client.json("POST", "/v1/deliveries/\(deliveryId)/retry", key: service.adminKey)
        XCTAssertEqual(retried.status, 202, retried.text)
        XCTAssertEqual(retried.json["status"] as? String, "pending")
        WebhookReceiver.eventually(timeout: 30, "the retried event") { receiver.accepted.count == 2 }
        XCTAssertEqual(receiver.accepted[1].eventId, dead.first?["event_id"] as? String)
        XCTAssertEqual(receiver.accepted[1].attempt, "1", "a manual retry starts a fresh attempt budget")
        try WebhookReceiver.eventually(timeout: 10, "delivered status") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 2
        }
        let again = try client.json("POST", "/v1/deliveries/\(deliveryId)/retry", key: service.adminKey)
        XCTAssertEqual(again.status, 409, again.text)
        XCTAssertEqual(try client.json("POST", "/v1/deliveries/999999/retry", key: service.adminKey).status, 404)
        assertSigned(receiver.requests)
    }

    func testReplaySendsEventsSinceATimeAgainWithTheirIds() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let service = try self.service()
        let before = Date().addingTimeInterval(-60)
        // Outbox rows are kept for topics some subscription lists: a paused one keeps them here.
        try service.subscribeToEveryTopic()
        try service.writeOutbox(leads: [UUID(), UUID()], perLead: 2)
        try WebhookReceiver.eventually(timeout: 10, "dispatch") { try service.count("SELECT count(*) FROM outbox_pending") == 0 }
        // Subscribed after the events were dispatched: nothing is sent until a replay asks for them.
        let subscription = try service.subscribe(["url": receiver.url, "topics": ["lead.status_changed"], "secret": Self.secret])
        let id = try XCTUnwrap(subscription["id"] as? String)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(receiver.requests.count, 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries WHERE subscription_id = '\(id)'"), 0)
        let client = try service.client()
        let replay = try client.json("POST", "/v1/subscriptions/\(id)/replay", key: service.adminKey, ["from": iso(before)])
        XCTAssertEqual(replay.status, 202, replay.text)
        XCTAssertEqual(replay.json["scheduled"] as? Int, 4)
        WebhookReceiver.eventually(timeout: 30, "replayed events") { receiver.accepted.count == 4 }
        let first = Set(receiver.accepted.compactMap(\.eventId))
        XCTAssertEqual(first.count, 4)
        // The receiver has them before the workers record the outcomes; a replay leaves a delivery
        // still in flight alone, so wait until all four are recorded as delivered.
        try WebhookReceiver.eventually(timeout: 10, "outcomes recorded") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 4
        }

        let again = try client.json("POST", "/v1/subscriptions/\(id)/replay", key: service.adminKey, ["from": iso(before)])
        XCTAssertEqual(again.json["scheduled"] as? Int, 4, "delivered ones are sent again")
        WebhookReceiver.eventually(timeout: 30, "second replay") { receiver.accepted.count == 8 }
        XCTAssertEqual(Set(receiver.accepted.suffix(4).compactMap(\.eventId)), first, "same event ids: receivers dedupe")
        XCTAssertEqual(WebhookReceiver.perLeadOrder(receiver.requests).violations, [])

        let future = try client.json("POST", "/v1/subscriptions/\(id)/replay", key: service.adminKey, ["from": iso(Date().addingTimeInterval(3600))])
        XCTAssertEqual(future.json["scheduled"] as? Int, 0)
        let bad = try client.json("POST", "/v1/subscriptions/\(id)/replay", key: service.adminKey, ["from": "yesterday"])
        XCTAssertEqual(bad.status, 422)
        XCTAssertEqual(bad.header("Content-Type"), "application/problem+json")
        XCTAssertEqual(try client.json("POST", "/v1/subscriptions/\(UUID())/replay", key: service.adminKey, ["from": iso(before)]).status, 404)
    }

    func testIngestAnswersEveryRequestWhileTheReceiverHangs() throws {
        let receiver = try WebhookReceiver { _ in .hang(8) }
        defer { receiver.stop() }
        var settings = testWebhookSettings(workers: 2, responseTimeout: 6)
        settings.databaseConnections = 2
        let service = try self.service(settings)
        _ = try service.subscribe(["url": receiver.url, "topics": OutboxTopic.allCases.map(\.rawValue), "secret": Self.secret])
        try service.writeOutbox(leads: [UUID(), UUID()], perLead: 1)
        WebhookReceiver.eventually(timeout: 10, "both workers stuck on the hanging receiver") { receiver.requests.count == 2 }

        let client = try service.client()
        var statuses: [Int] = []
        for n in 0..<60 {
            let body: [String: Any] = ["userId": "hang-\(n % 20)", "event": "Guide Downloaded", "properties": ["topic": "running-shoes"],
                                       "timestamp": iso(service.clock.now), "messageId": "hang-\(n)"]
            statuses.append(try client.json("POST", "/v1/events", key: service.ingestKey, body).status)
        }
        // Structural: every ingest request was answered while both delivery workers were still
        // inside their attempts to the hanging receiver.
        XCTAssertEqual(statuses, Array(repeating: 200, count: 60))
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries WHERE status = 'in_flight'"), 2, "the receiver was still hanging")
        XCTAssertEqual(receiver.accepted.count, 0)
        XCTAssertEqual(try service.count("SELECT count(DISTINCT lead_id) FROM events"), 20)
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM outbox"), 20, "ingest wrote its outbox rows meanwhile")
    }

    func testEndToEndIngestDecisionsBecomeWebhooks() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let service = try self.service()
        _ = try service.subscribe(["url": receiver.url, "topics": OutboxTopic.allCases.map(\.rawValue), "secret": Self.secret])
        let filtered = try WebhookReceiver()
        defer { filtered.stop() }
        _ = try service.subscribe(["url": filtered.url, "topics": ["segment.entered", "lead.status_changed"],
                                   "segments": ["awareness.early-intent.researcher"], "secret": Self.secret])
        let client = try service.client()
        let decision = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": "e2e-1", "event": "Guide Downloaded", "properties": ["topic": "running-shoes"],
            "timestamp": iso(service.clock.now), "messageId": "e2e-1"])
        XCTAssertEqual(decision.status, 200, decision.text)
        let leadId = try XCTUnwrap(decision.json["lead_id"] as? String)
        let patched = try client.json("PATCH", "/v1/leads/\(leadId)", key: service.adminKey, ["status": "contacted"])
        XCTAssertEqual(patched.status, 200, patched.text)

        let outbox = try service.count("SELECT count(*) FROM outbox")
        XCTAssertGreaterThanOrEqual(outbox, 3)
        WebhookReceiver.eventually(timeout: 30, "all events") { receiver.accepted.count == outbox }
        let types = receiver.accepted.compactMap { $0.json["type"] as? String }
        XCTAssertTrue(types.contains("segment.entered"), "\(types)")
        XCTAssertTrue(types.contains("lead.routed"), "\(types)")
        XCTAssertEqual(types.last, "lead.status_changed", "the status change came last for this lead")
        assertSigned(receiver.requests)

        WebhookReceiver.eventually(timeout: 30, "filtered events") { filtered.accepted.count == 2 }
        Thread.sleep(forTimeInterval: 0.3)
        let filteredTypes = filtered.accepted.map { "\($0.json["type"] as? String ?? ""):\(($0.json["data"] as? [String: Any])?["segment"] as? String ?? "-")" }
        XCTAssertEqual(filteredTypes, ["segment.entered:awareness.early-intent.researcher", "lead.status_changed:-"])
    }
}
