import Foundation
import Logging
import Postgres
import XCTest
@testable import LeadStore
@testable import Privacy

/// Erasure (issue 17): one request removes a person's data from every table, leaves a
/// tombstone, suppresses their identities and tells subscribers with `lead.erased`.
final class PrivacyEraseTests: XCTestCase {
    /// Values only this person has, so that finding one anywhere after the erasure is a leak.
    static let email = "zebulon.quixote@quixote-erase.example"
    static let userId = "u-erase-7741"
    static let anonymousIds = ["anon-erase-5521", "anon-erase-9912"]
    static let ip = "203.0.113.77"
    static let traitValues = ["Zebulon Quixote", "Quixotic Widgets GmbH", "ZebulonBrowser/9.1", "+49 30 9988776655", "quixote-erase.example"]
    static var needles: [String] { [email, userId, ip] + anonymousIds + traitValues }

    func send(_ service: TestService, _ path: String, _ body: [String: Any]) throws -> TestResponse {
        try service.send(path, body)
    }

    /// A person with two merged leads, events with context, decisions, memberships, a sales
    /// queue item and webhooks; returns the live lead's id and the merged one's.
    func makePerson(_ service: TestService) throws -> (live: String, merged: String) {
        let context: [String: Any] = ["ip": Self.ip, "userAgent": "ZebulonBrowser/9.1", "traits": ["phone": "+49 30 9988776655"]]
        var r = try send(service, "/v1/identify", ["userId": Self.userId, "context": context, "traits": [
            "email": Self.email, "name": "Zebulon Quixote", "company": ["name": "Quixotic Widgets GmbH"], "country": "DE"]])
        XCTAssertEqual(r.status, 200, r.text)
        service.clock.advance(60)
        r = try send(service, "/v1/track", ["anonymousId": Self.anonymousIds[1], "event": "Product Viewed", "context": context,
                                            "properties": ["product_id": "p1", "note": "Zebulon Quixote"]])
        XCTAssertEqual(r.status, 200, r.text)
        service.clock.advance(60)
        // Log-in: ties the anonymous lead to the known one (a merge).
        r = try send(service, "/v1/identify", ["userId": Self.userId, "anonymousId": Self.anonymousIds[1], "context": context])
        XCTAssertEqual(r.status, 200, r.text)
        r = try send(service, "/v1/track", ["userId": Self.userId, "anonymousId": Self.anonymousIds[0], "event": "Pricing Requested",
                                            "context": context, "properties": ["plan": "team"]])
        XCTAssertEqual(r.status, 200, r.text)
        let live = try XCTUnwrap(try service.client().json("GET", "/v1/leads?user_id=\(Self.userId)", key: service.readKey).json["id"] as? String)
        let merged = try XCTUnwrap(try service.connection().query("SELECT id FROM leads WHERE merged_into IS NOT NULL").first?.decode(UUID.self, "id"))
        return (live, merged.uuidString.lowercased())
    }

    /// Every text, varchar, jsonb, json and text[] column of every table, and how many rows hold
    /// `needle` in it (case-insensitive).
    func leaks(_ service: TestService, of needles: [String]) throws -> [String] {
        let conn = try service.connection()
        let columns = try conn.query("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'USER-DEFINED', 'character'))
            ORDER BY 1, 2
            """).map { (try $0.decode(String.self, "table_name"), try $0.decode(String.self, "column_name")) }
        XCTAssertGreaterThan(columns.count, 40, "the search covers the whole schema")
        var found: [String] = []
        for (table, column) in columns {
            for needle in needles {
                let literal = needle.replacingOccurrences(of: "'", with: "''")
                let n = try conn.query(PostgresQuery(unsafeRaw: """
                    SELECT count(*) FROM "\(table)" WHERE "\(column)"::text ILIKE '%\(literal)%'
                    """)).scalar(Int.self)
                if n > 0 { found.append("\(table).\(column) holds '\(needle)' in \(n) row(s)") }
            }
        }
        return found
    }

    func testEraseLeavesNoTraceTombstoneAndSuppressesTheIdentities() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings() }
        _ = try service.subscribe(["url": receiver.url, "topics": ["lead.routed", "lead.merged", "lead.erased"], "secret": "s3cret-s3cret-s3cret"])
        let (live, merged) = try makePerson(service)
        // Someone else, who must keep everything.
        var r = try send(service, "/v1/identify", ["userId": "u-bystander", "traits": ["email": "bystander@example.org"]])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertFalse(try leaks(service, of: Self.needles).isEmpty, "the search finds the person before the erasure")
        let sizesBefore = try service.count("SELECT count(*) FROM memberships WHERE lead_id <> '\(live)'")

        // Only admin may erase.
        XCTAssertEqual(try service.client().json("DELETE", "/v1/leads/\(live)", key: service.readKey).status, 403)
        r = try service.client().json("DELETE", "/v1/leads/\(merged)", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["lead_id"] as? String, live, "erasing a merged id erases the lead it answers as")
        XCTAssertEqual(r.json["suppressed"] as? Bool, true)
        let counts = try XCTUnwrap(r.json["counts"] as? [String: Any])
        XCTAssertEqual(counts["leads"] as? Int, 2, "the merged pair is erased together")
        XCTAssertEqual(counts["events"] as? Int, 4)
        XCTAssertEqual(counts["identities"] as? Int, 4)

        // Nothing of the person is left anywhere.
        XCTAssertEqual(try leaks(service, of: Self.needles), [])
        // Packed documents (0060) are bytes the text search cannot read: none is left of them.
        XCTAssertEqual(try service.count("""
            SELECT (SELECT count(*) FROM decisions WHERE lead_id IN ('\(live)', '\(merged)') AND packed IS NOT NULL)
                 + (SELECT count(*) FROM membership_history WHERE lead_id IN ('\(live)', '\(merged)') AND reason_packed IS NOT NULL)
            """), 0)
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM decisions WHERE lead_id IN ('\(live)', '\(merged)')"), 0,
                             "the audit rows stay, explanations removed")
        // Their tombstones stay; the bystander is untouched.
        XCTAssertEqual(try service.count("SELECT count(*) FROM erased_leads"), 2)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE erased_at IS NOT NULL"), 2)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 5, "event rows stay for metrics, without their payload")
        XCTAssertEqual(try service.client().json("GET", "/v1/leads?email=bystander@example.org", key: service.readKey).status, 200)
        // Segment sizes: the person left every segment, with an exit in the history per entry.
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), sizesBefore)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FILTER (WHERE change = 'entered') - count(*) FILTER (WHERE change = 'exited')
            FROM membership_history WHERE lead_id IN ('\(live)', '\(merged)')
            """), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE lead_id = '\(live)' AND state <> 'closed'"), 0)

        // Reads answer 410 for either id; erasing again answers the same tombstone.
        for id in [live, merged] {
            let gone = try service.client().json("GET", "/v1/leads/\(id)", key: service.readKey)
            XCTAssertEqual(gone.status, 410, gone.text)
            XCTAssertEqual(gone.header("content-type"), "application/problem+json")
            XCTAssertEqual(try service.client().json("GET", "/v1/leads/\(id)/decisions", key: service.readKey).status, 410)
        }
        XCTAssertEqual(try service.client().json("PATCH", "/v1/leads/\(live)", key: service.adminKey, ["status": "qualified"]).status, 410)
        let again = try service.client().json("DELETE", "/v1/leads/\(live)", key: service.adminKey)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json["erasure_id"] as? String, r.json["erasure_id"] as? String)
        XCTAssertEqual(try service.client().json("GET", "/v1/leads?email=\(Self.email)", key: service.readKey).status, 404)
        // Lead lists (the CRM's view) no longer show the erased person, only the bystander.
        let listed = try service.client().json("GET", "/v1/leads?order=updated_at", key: service.readKey)
        XCTAssertEqual(listed.status, 200, listed.text)
        let ids = (listed.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertFalse(ids.contains(live) || ids.contains(merged), "\(ids)")
        XCTAssertEqual(ids.count, 1, listed.text)

        // lead.erased reaches the subscriber, with ids and counts only.
        try WebhookReceiver.eventually(timeout: 30, "lead.erased delivered") {
            receiver.accepted.contains { $0.json["type"] as? String == "lead.erased" }
        }
        let notice = try XCTUnwrap(receiver.accepted.first { $0.json["type"] as? String == "lead.erased" })
        XCTAssertEqual(notice.leadId, live)
        XCTAssertEqual(Set((notice.json["data"] as? [String: Any])?["lead_ids"] as? [String] ?? []), [live, merged])
        let text = String(decoding: notice.body, as: UTF8.self)
        for needle in Self.needles { XCTAssertFalse(text.contains(needle), "lead.erased carries \(needle)") }

        // A new message with the erased email (any case) or an erased anonymous id is dropped and counted.
        let leadsBefore = try service.count("SELECT count(*) FROM leads")
        r = try send(service, "/v1/track", ["userId": "u-new-device", "event": "Product Viewed",
                                            "context": ["traits": ["email": Self.email.uppercased()]]])
        XCTAssertEqual(r.status, 200, r.text)
        r = try send(service, "/v1/batch", ["batch": [
            ["type": "track", "anonymousId": Self.anonymousIds[0], "event": "Product Viewed"],
            ["type": "track", "anonymousId": "anon-someone-else", "event": "Product Viewed"],
        ]])
        XCTAssertEqual(r.status, 200, r.text)
        let events = try service.client().json("POST", "/v1/events", key: service.ingestKey, ["userId": Self.userId, "event": "Product Viewed"])
        XCTAssertEqual(events.status, 200, events.text)
        XCTAssertEqual(events.json["dropped"] as? Bool, true)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), leadsBefore + 1, "only the stranger became a lead")
        XCTAssertEqual(try service.count("SELECT count(*) FROM identities WHERE value = 'u-new-device'"), 0)
        XCTAssertEqual(try service.count("SELECT sum(dropped)::int FROM suppressed_identities"), 3)
        XCTAssertEqual(service.app.ingest.counters.snapshot.suppressedMessages, 3)
        XCTAssertEqual(try leaks(service, of: Self.needles), [], "dropped messages left nothing")
    }

    func testEraseWithoutSuppressionLetsThePersonComeBackAsANewLead() throws {
        let service = try TestService(test: self)
        var r = try send(service, "/v1/identify", ["userId": "u-back", "traits": ["email": "back@example.org"]])
        XCTAssertEqual(r.status, 200, r.text)
        let id = try XCTUnwrap(try service.client().json("GET", "/v1/leads?user_id=u-back", key: service.readKey).json["id"] as? String)
        XCTAssertEqual(try service.client().json("DELETE", "/v1/leads/\(id)?suppress=maybe", key: service.adminKey).status, 400)
        XCTAssertEqual(try service.count("SELECT count(*) FROM erased_leads"), 0, "a bad request changes nothing")
        XCTAssertEqual(try service.client().json("DELETE", "/v1/leads/\(UUID())", key: service.adminKey).status, 404)
        r = try service.client().json("DELETE", "/v1/leads/\(id)?suppress=false", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM suppressed_identities"), 0)
        r = try send(service, "/v1/identify", ["userId": "u-back", "traits": ["email": "back@example.org"]])
        XCTAssertEqual(r.status, 200, r.text)
        let again = try service.client().json("GET", "/v1/leads?user_id=u-back", key: service.readKey)
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertNotEqual(again.json["id"] as? String, id, "a new lead, not the tombstone")
    }

    /// What `leadrouter leads suppress|unsuppress` run: the list by hand.
    func testIdentitiesSuppressedByHandAreDroppedUntilUnsuppressed() throws {
        let service = try TestService(test: self)
        let conn = try service.connection()
        XCTAssertTrue(try Store(conn).suppress(IdentityKey(.email, "hand@example.org"), at: service.clock.now))
        XCTAssertFalse(try Store(conn).suppress(IdentityKey(.email, "hand@example.org"), at: service.clock.now))
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "u-hand", "traits": ["email": "Hand@Example.org"]]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 0, "dropped")
        XCTAssertTrue(try Store(conn).unsuppress(IdentityKey(.email, "hand@example.org")))
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "u-hand", "traits": ["email": "Hand@Example.org"]]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 1, "accepted again")
    }

    /// What `leadrouter leads erase --email` runs: erasure by identity.
    func testEraseByIdentity() throws {
        let service = try TestService(test: self)
        let r = try send(service, "/v1/identify", ["userId": "u-cli", "traits": ["email": "cli@example.org"]])
        XCTAssertEqual(r.status, 200, r.text)
        let erasure = LeadErasure(pool: service.app.pool, clock: { service.clock.now }, logger: Logger(label: "t"))
        guard case .erased(let tombstone, let ids) = try erasure.erase(identity: IdentityKey(.email, "cli@example.org"), suppress: true) else {
            return XCTFail("not erased")
        }
        XCTAssertEqual(ids, [tombstone.leadId])
        XCTAssertEqual(tombstone.erasedAt, service.clock.now)
        guard case .notFound = try erasure.erase(identity: IdentityKey(.email, "cli@example.org"), suppress: true) else {
            return XCTFail("the identity is gone after the erasure")
        }
        guard case .alreadyErased = try erasure.erase(lead: tombstone.leadId, suppress: true) else { return XCTFail("idempotent") }
    }
}
