import Foundation
import XCTest
@testable import Ingest
import LeadStore
import Postgres
@testable import RulesTools

/// Decisions and membership reasons are stored packed (`PackedJSON`, migrations/0060). What a
/// reader gets back must be what the engine produced at write time, byte for byte: the answer of
/// `POST /v1/events`, a re-send's answer, and every stored row as `GET /v1/leads/{id}/decisions`
/// reads it — over every journey the sample ruleset ships in config/cases, played over HTTP with
/// the sweeper running at each step (time-based exits), CRM status changes (`PATCH`) and the
/// identify, page and track calls the cases make.
final class StoredDecisionFidelityTests: XCTestCase {
    static let casesDirectory = repositoryRoot.appendingPathComponent("config/cases")

    func testEveryShippedJourneyReadsBackTheBytesItWasAnswered() throws {
        let service = try TestService(test: self, start: Date(timeIntervalSince1970: 1_700_000_000))
        let client = try service.client()
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.casesDirectory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 6)
        var answered: [String: [UInt8]] = [:]   // event id → the answer's bytes
        var leads: Set<UUID> = []
        var cases = 0
        for name in names {
            let text = try String(contentsOf: Self.casesDirectory.appendingPathComponent(name), encoding: .utf8)
            let file = try CaseFile.parse(yaml: text, fileName: name)
            for (index, journey) in file.cases.enumerated() {
                cases += 1
                let user = "fidelity-\(name)-\(index)"
                let leadId = try play(journey, user: user, service: service, client: client, answered: &answered)
                leads.insert(leadId)
            }
        }
        XCTAssertGreaterThan(cases, 20)

        // Every stored decision reads back as the engine wrote it: the answer's exact bytes where
        // there was one, and in every case the bytes `DecisionJSON` writes for the decision it
        // holds (a lossy store would differ in a number, a key or an escape).
        let store = Store(try service.connection())
        var compared = 0, rows = 0, reasons = 0
        for lead in leads {
            for row in try store.decisions(of: lead, limit: 10_000, cursor: nil).items {
                rows += 1
                XCTAssertEqual(IngestService.canonical(row.document).bytes, row.document.bytes, String(decoding: row.document.bytes, as: UTF8.self))
                let document = try JSONSerialization.jsonObject(with: Data(row.document.bytes)) as? [String: Any]
                if let id = document?["event_id"] as? String, let answer = answered[id] {
                    XCTAssertEqual(row.document.bytes, answer, "decision \(row.sequence) of \(lead)")
                    compared += 1
                }
            }
            for change in try store.membershipHistory(of: lead) {
                let reason = try XCTUnwrap(change.reason)
                XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(reason.bytes)) as? [String: Any])
                reasons += 1
            }
        }
        XCTAssertEqual(compared, answered.count, "every answered event's decision was found")
        XCTAssertGreaterThan(rows, compared, "sweeps, identifies and status changes decide too")
        XCTAssertGreaterThan(reasons, 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions WHERE decision IS NOT NULL"), 0, "every decision is stored packed")
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), rows)
        // Packed, a decision takes a fraction of its JSON (docs/benchmarks/storage.md).
        let sizes = try service.count("SELECT sum(octet_length(packed))::int8 FROM decisions")
        let unpacked = try leads.reduce(0) { sum, lead in
            sum + (try store.decisions(of: lead, limit: 10_000, cursor: nil).items.reduce(0) { $0 + $1.document.bytes.count })
        }
        XCTAssertLessThan(Double(sizes), 0.35 * Double(unpacked), "packed \(sizes) B of \(unpacked) B of JSON")

        // Rows written before 0060 hold jsonb: the API serves the same decisions from those.
        func pages() throws -> [NSArray] {
            try leads.sorted { $0.uuidString < $1.uuidString }.map { lead in
                let page = try client.json("GET", "/v1/leads/\(lead)/decisions?limit=100", key: service.readKey)
                XCTAssertEqual(page.status, 200, page.text)
                return (page.json["data"] as? NSArray) ?? []
            }
        }
        let packedPages = try pages()
        try service.unpackStoredDocuments()
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions WHERE packed IS NOT NULL"), 0)
        XCTAssertEqual(try pages(), packedPages)
    }

    /// Plays one journey as a client and a CRM would; returns the lead's id.
    func play(_ journey: TestCase, user: String, service: TestService, client: TestHTTPClient,
              answered: inout [String: [UInt8]]) throws -> UUID {
        service.clock.set(journey.start)
        var traits = journey.lead.filter { $0.key != "status" && $0.key != "customer" }.mapValues(\.json)
        traits["user_id"] = nil
        let identified = try client.json("POST", "/v1/identify", key: service.ingestKey, [
            "userId": user, "traits": traits, "timestamp": iso(journey.start), "messageId": "\(user)-profile"])
        XCTAssertEqual(identified.status, 200, identified.text)
        let byUser = try client.json("GET", "/v1/leads?user_id=\(user)", key: service.readKey)
        let leadId = try XCTUnwrap(UUID(uuidString: try XCTUnwrap(byUser.json["id"] as? String, byUser.text)))
        if case let .string(status)? = journey.lead["status"] {
            XCTAssertEqual(try client.json("PATCH", "/v1/leads/\(leadId)", key: service.adminKey, ["status": status]).status, 200)
        }
        for (n, step) in journey.steps.enumerated() {
            if journey.sweep {
                service.clock.set(max(service.clock.now, step.at))
                _ = try service.app.sweeper.sweepDue()
            }
            switch step.action {
            case let .event(event, received):
                service.clock.set(max(service.clock.now, received))
                var message: [String: Any] = ["userId": user, "timestamp": iso(step.at), "messageId": "\(user)-\(n)"]
                if !event.properties.isEmpty { message["properties"] = event.properties.mapValues(\.json) }
                if !event.context.isEmpty { message["context"] = event.context.mapValues(\.json) }
                if !event.traits.isEmpty { message[event.kind == "identify" ? "traits" : "context"] = event.kind == "identify"
                    ? event.traits.mapValues(\.json) : ["traits": event.traits.mapValues(\.json)] }
                switch event.kind {
                case "track":
                    message["event"] = event.name ?? ""
                    let first = try client.json("POST", "/v1/events", key: service.ingestKey, message)
                    XCTAssertEqual(first.status, 200, first.text)
                    // A re-send answers with the stored decision: the first answer's bytes.
                    let again = try client.json("POST", "/v1/events", key: service.ingestKey, message)
                    XCTAssertEqual(again.body, first.body, "re-send of \(user) step \(n)")
                    if let id = first.json["event_id"] as? String { answered[id] = first.body }
                case "page":
                    if let name = event.name { message["name"] = name }
                    XCTAssertEqual(try client.json("POST", "/v1/page", key: service.ingestKey, message).status, 200)
                default:
                    XCTAssertEqual(try client.json("POST", "/v1/identify", key: service.ingestKey, message).status, 200)
                }
            case let .setStatus(status):
                service.clock.set(max(service.clock.now, step.at))
                XCTAssertEqual(try client.json("PATCH", "/v1/leads/\(leadId)", key: service.adminKey, ["status": status]).status, 200)
            case .evaluate:
                service.clock.set(max(service.clock.now, step.at))
                _ = try service.app.sweeper.sweepDue()
            }
        }
        return leadId
    }
}

extension CaseValue {
    /// The value as `JSONSerialization` takes it.
    var json: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(value): return value
        case let .number(value): return value
        case let .string(value): return value
        case let .list(items): return items.map(\.json)
        case let .object(fields): return fields.mapValues(\.json)
        }
    }
}
