import Foundation
import XCTest
@testable import Cryptography
@testable import HTTPAPI

/// The HTTP contract: auth (401/403), gzip batches, validation errors, signatures, status changes,
/// segment listings with paging, readiness.
final class IngestAPITests: XCTestCase {
    func testAuthenticationAndScopes() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let track: [String: Any] = ["userId": "u-1", "event": "Product Viewed"]

        var r = try client.json("POST", "/v1/track", key: nil, track)
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        XCTAssertNotNil(r.header("WWW-Authenticate"))
        r = try client.json("POST", "/v1/track", key: "lr_not_a_key", track)
        XCTAssertEqual(r.status, 401)
        r = try client.json("POST", "/v1/track", key: service.readKey, track)
        XCTAssertEqual(r.status, 403)
        XCTAssertEqual(r.json["status"] as? Int, 403)
        r = try client.json("GET", "/v1/leads?user_id=u-1", key: service.ingestKey)
        XCTAssertEqual(r.status, 403)
        r = try client.json("GET", "/v1/segments", key: nil)
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "refused requests change nothing")

        // Authentication comes before validation: no body detail for a caller without a valid key.
        let invalid: [String: Any] = ["properties": []]
        for path in ["/v1/track", "/v1/events", "/v1/batch"] {
            r = try client.json("POST", path, key: nil, invalid)
            XCTAssertEqual(r.status, 401, "\(path) without a key: \(r.text)")
            r = try client.json("POST", path, key: "lr_not_a_key", invalid)
            XCTAssertEqual(r.status, 401, "\(path) with an unknown key: \(r.text)")
            XCTAssertNil(r.json["errors"], "a 401 must not list the body's field errors")
            r = try client.json("POST", path, key: service.ingestKey, invalid)
            XCTAssertEqual(r.status, 400, "\(path) with a valid key: \(r.text)")
            var invalidWithKey = invalid
            invalidWithKey["writeKey"] = service.ingestKey
            r = try client.json("POST", path, key: nil, invalidWithKey)
            XCTAssertEqual(r.status, 400, "\(path) with writeKey in an invalid body: \(r.text)")
        }

        // Segment's ways of sending a write key: Basic user name, writeKey in the body; admin ⊇ all.
        let basic = "Basic " + Data("\(service.ingestKey):".utf8).base64EncodedString()
        r = try client.request("POST", "/v1/track", headers: ["Authorization": basic, "Content-Type": "application/json"],
                               body: Array(try JSONSerialization.data(withJSONObject: track)))
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["success"] as? Bool, true)
        var withKey = track
        withKey["writeKey"] = service.ingestKey
        r = try client.json("POST", "/v1/track", key: nil, withKey)
        XCTAssertEqual(r.status, 200, r.text)
        r = try client.json("GET", "/v1/leads?user_id=u-1", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 2)
    }

    func testGzipBatchIsAppliedInOrder() throws {
        let service = try TestService(test: self)
        var batch: [[String: Any]] = []
        for i in 0..<50 {
            batch.append(["type": "track", "userId": "u-\(i % 5)", "event": "Product Viewed", "messageId": "b-\(i)",
                          "properties": ["category": "skincare-sets"], "timestamp": iso(service.clock.now)])
        }
        batch.append(["type": "identify", "userId": "u-0", "traits": ["email": "zero@example.org"], "messageId": "b-id"])
        batch.append(["type": "page", "userId": "u-1", "name": "Shipping", "properties": ["path": "/shipping"], "messageId": "b-page"])
        let json = try JSONSerialization.data(withJSONObject: ["batch": batch, "sentAt": iso(service.clock.now)])
        let gzipped = try gzip(Array(json))
        XCTAssertLessThan(gzipped.count, json.count)
        let client = try service.client()
        let headers = ["Authorization": "Bearer \(service.ingestKey)", "Content-Type": "application/json", "Content-Encoding": "gzip"]
        var r = try client.request("POST", "/v1/batch", headers: headers, body: gzipped)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["success"] as? Bool, true)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 52)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 5)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE type = 'page_viewed'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships WHERE segment = 'consideration.mid-intent.skincare-sets'"), 5)
        // The same batch again: every message already applied, nothing doubles.
        r = try client.request("POST", "/v1/batch", headers: headers, body: gzipped)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 52)

        // Bad gzip: 400. A message without ids: dropped (200, listed under `rejected` with a
        // pointer, as Segment does), nothing written.
        r = try client.request("POST", "/v1/batch", headers: headers, body: Array("not gzip".utf8))
        XCTAssertEqual(r.status, 400)
        let invalid = try JSONSerialization.data(withJSONObject: ["batch": [["type": "track", "event": "X"]]])
        r = try client.request("POST", "/v1/batch", headers: ["Authorization": "Bearer \(service.ingestKey)"], body: Array(invalid))
        XCTAssertEqual(r.status, 200)
        let errors = (r.json["rejected"] as? [[String: Any]])?.first?["errors"] as? [[String: Any]] ?? []
        XCTAssertTrue(errors.contains { ($0["pointer"] as? String)?.hasPrefix("/batch/0") == true }, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 52)
    }

    func testSignedEventsAndStatusPatchAndSegmentListings() throws {
        let service = try TestService(test: self)
        let signed = try service.app.createKey(name: "signed", scopes: [.ingest], signingSecret: "s3cret")
        let client = try service.client()
        let body = Array(try JSONSerialization.data(withJSONObject: [
            "userId": "u-s", "event": "Pricing Requested", "timestamp": iso(service.clock.now)]))
        var r = try client.request("POST", "/v1/events", headers: ["Authorization": "Bearer \(signed)"], body: body)
        XCTAssertEqual(r.status, 401, "a signing key needs the signature")
        let now = Int(Date().timeIntervalSince1970)
        let bad = SignatureScheme.sign(body: body, secret: Array("wrong".utf8), timestamp: now)
        r = try client.request("POST", "/v1/events", headers: ["Authorization": "Bearer \(signed)", "X-Leadrouter-Signature": bad], body: body)
        XCTAssertEqual(r.status, 401)
        let good = SignatureScheme.sign(body: body, secret: Array("s3cret".utf8), timestamp: now)
        r = try client.request("POST", "/v1/events", headers: ["Authorization": "Bearer \(signed)", "X-Leadrouter-Signature": good], body: body)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["status"] as? String, "qualified")
        XCTAssertEqual((r.json["segments"] as? [String: Any])?["entered"] as? [String], ["decision.high-intent.pricing"])
        let leadId = try XCTUnwrap(r.json["lead_id"] as? String)

        r = try client.json("GET", "/v1/segments", key: service.readKey)
        XCTAssertEqual(r.status, 200)
        let definitions = r.json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(definitions.count, 23)
        XCTAssertEqual(definitions.first { $0["name"] as? String == "decision.high-intent.pricing" }?["size"] as? Int, 1)
        r = try client.json("GET", "/v1/segments/decision.high-intent.pricing/members?limit=1", key: service.readKey)
        XCTAssertEqual((r.json["data"] as? [[String: Any]])?.first?["lead_id"] as? String, leadId)
        XCTAssertTrue(r.json["next_cursor"] is NSNull)
        r = try client.json("GET", "/v1/segments/no.such.segment/members", key: service.readKey)
        XCTAssertEqual(r.status, 404)

        // A CRM marks the lead converted: re-evaluated at once, it leaves the sales segment.
        service.clock.advance(600)
        r = try client.json("PATCH", "/v1/leads/\(leadId)", key: service.adminKey, ["status": "converted"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["status"] as? String, "converted")
        XCTAssertEqual(r.json["customer"] as? Bool, true)
        // A customer who asked for pricing in the last 30 days is account management's (issue 21).
        XCTAssertEqual(r.json["segments"] as? [String], ["retention.high-intent.account-pricing"])
        r = try client.json("PATCH", "/v1/leads/\(leadId)", key: service.adminKey, ["status": "Not A Name"])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual((r.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, "/status")

        // Decisions page newest first with a cursor.
        r = try client.json("GET", "/v1/leads/\(leadId)/decisions?limit=1", key: service.readKey)
        let first = r.json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(first.first?["status"] as? String, "converted")
        let cursor = try XCTUnwrap(r.json["next_cursor"] as? String)
        r = try client.json("GET", "/v1/leads/\(leadId)/decisions?limit=1&cursor=\(cursor)", key: service.readKey)
        XCTAssertEqual((r.json["data"] as? [[String: Any]])?.first?["status"] as? String, "qualified")
        XCTAssertTrue(r.json["next_cursor"] is NSNull)

        r = try client.json("GET", "/readyz", key: nil)
        XCTAssertEqual(r.status, 200, r.text)
    }
}
