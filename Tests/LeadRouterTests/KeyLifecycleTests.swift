import Foundation
import Postgres
import XCTest
@testable import HTTPAPI
@testable import LeadRouterService
@testable import LeadStore
@testable import SalesQueues

/// `/v1/keys` end to end over real sockets and PostgreSQL: list, create, revoke, rotate with a
/// grace period, the coarse `last_used_at`, public keys and owner-bound keys.
final class KeyLifecycleTests: XCTestCase {
    func track(_ user: String) -> [String: Any] { ["userId": user, "event": "Product Viewed", "properties": [:] as [String: Any]] }

    func testCreateListRevokeAndRotate() throws {
        let service = try TestService(test: self)
        let client = try service.client()

        // Create: the plaintext is answered once; the list never shows it, the hash or the signing secret.
        let created = try client.json("POST", "/v1/keys", key: service.adminKey,
                                      ["name": "crm", "scopes": ["read", "write"], "signing_secret": "s3cret-value"])
        XCTAssertEqual(created.status, 201, created.text)
        let plaintext = try XCTUnwrap(created.json["key"] as? String)
        let id = try XCTUnwrap(created.json["id"] as? String)
        XCTAssertTrue(plaintext.hasPrefix("lr_"))
        XCTAssertEqual(created.json["scopes"] as? [String], ["read", "write"])
        XCTAssertEqual(created.json["public"] as? Bool, false)
        XCTAssertEqual(created.json["signed"] as? Bool, true)
        XCTAssertFalse(created.text.contains("s3cret-value"))

        let list = try client.json("GET", "/v1/keys", key: service.adminKey)
        XCTAssertEqual(list.status, 200, list.text)
        let rows = try XCTUnwrap(list.json["data"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["ingest", "read", "admin", "crm"])
        let crm = try XCTUnwrap(rows.first { $0["id"] as? String == id })
        XCTAssertEqual(Set(crm.keys), ["id", "name", "prefix", "scopes", "public", "owner", "signed", "created_at", "last_used_at",
                                       "revoked_at", "expires_at", "rotated_from", "cors_allowed_origins"])
        XCTAssertEqual(crm["prefix"] as? String, String(plaintext.prefix(11)))
        XCTAssertTrue(crm["last_used_at"] is NSNull)
        XCTAssertFalse(list.text.contains(plaintext), "the list never shows a key")
        XCTAssertFalse(list.text.contains("s3cret-value"))

        // Only admin keys manage keys.
        XCTAssertEqual(try client.json("GET", "/v1/keys", key: plaintext).status, 403)
        XCTAssertEqual(try client.json("POST", "/v1/keys", key: service.readKey, ["name": "x", "scopes": ["read"]]).status, 403)

        // Invalid settings: 422 with a pointer per problem.
        for (body, pointer) in [(["name": "p", "public": true, "scopes": ["ingest", "read"]] as [String: Any], "/scopes"),
                                (["name": "p", "public": true, "signing_secret": "x"], "/signing_secret"),
                                (["name": "o", "scopes": ["admin"], "owner": "rep_anna"], "/scopes"),
                                (["name": "o", "scopes": ["queue"], "owner": "not an owner"], "/owner"),
                                (["name": "n", "scopes": ["root"]], "/scopes"),
                                (["scopes": ["read"]], "/name"),
                                (["name": "n", "scopes": ["read"], "hash": "x"], "/hash")] {
            let refused = try client.json("POST", "/v1/keys", key: service.adminKey, body)
            XCTAssertEqual(refused.status, 422, "\(body): \(refused.text)")
            XCTAssertEqual((refused.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, pointer, "\(body)")
        }

        // Revoke: refused at once on this node, although the key was just cached by a request.
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: plaintext).status, 200)
        let revoked = try client.json("DELETE", "/v1/keys/\(id)", key: service.adminKey)
        XCTAssertEqual(revoked.status, 200, revoked.text)
        XCTAssertNotNil(revoked.json["revoked_at"] as? String)
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: plaintext).status, 401)
        XCTAssertEqual(try client.json("DELETE", "/v1/keys/\(UUID().uuidString)", key: service.adminKey).status, 404)
        XCTAssertEqual(try client.json("POST", "/v1/keys/\(id)/rotate", key: service.adminKey, [:] as [String: Any]).status, 409,
                       "a revoked key cannot be rotated")

        // Rotate: a new key with the same settings; the old one works for the grace period, then stops.
        let old = try client.json("POST", "/v1/keys", key: service.adminKey, ["name": "shop", "scopes": ["ingest", "read"]])
        let oldKey = try XCTUnwrap(old.json["key"] as? String), oldID = try XCTUnwrap(old.json["id"] as? String)
        XCTAssertEqual(try client.json("POST", "/v1/track", key: oldKey, track("u1")).status, 200)  // cached now
        let rotated = try client.json("POST", "/v1/keys/\(oldID)/rotate", key: service.adminKey, ["grace_seconds": 2])
        XCTAssertEqual(rotated.status, 201, rotated.text)
        let newKey = try XCTUnwrap(rotated.json["key"] as? String)
        XCTAssertNotEqual(newKey, oldKey)
        XCTAssertEqual(rotated.json["scopes"] as? [String], ["ingest", "read"])
        XCTAssertEqual(rotated.json["name"] as? String, "shop")
        XCTAssertEqual(rotated.json["rotated_from"] as? String, oldID)
        let replaced = try XCTUnwrap(rotated.json["replaced"] as? [String: Any])
        XCTAssertEqual(replaced["id"] as? String, oldID)
        XCTAssertNotNil(replaced["expires_at"] as? String)
        XCTAssertNil(replaced["key"])
        XCTAssertEqual(try client.json("POST", "/v1/track", key: oldKey, track("u1")).status, 200, "within the grace period")
        XCTAssertEqual(try client.json("POST", "/v1/track", key: newKey, track("u1")).status, 200)
        Thread.sleep(forTimeInterval: 2.3)
        XCTAssertEqual(try client.json("POST", "/v1/track", key: oldKey, track("u1")).status, 401, "after the grace period")
        XCTAssertEqual(try client.json("POST", "/v1/track", key: newKey, track("u1")).status, 200)
        XCTAssertEqual(try client.json("POST", "/v1/keys/\(oldID)/rotate", key: service.adminKey, [:] as [String: Any]).status, 409)

        // The default grace period is a day; grace_seconds is bounded.
        let third = try client.json("POST", "/v1/keys/\(try XCTUnwrap(rotated.json["id"] as? String))/rotate", key: service.adminKey)
        XCTAssertEqual(third.status, 201, third.text)
        let expires = try XCTUnwrap((third.json["replaced"] as? [String: Any])?["expires_at"] as? String)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        XCTAssertEqual(try XCTUnwrap(f.date(from: expires)).timeIntervalSinceNow, 86_400, accuracy: 60)
        XCTAssertEqual(try client.json("POST", "/v1/keys/\(oldID)/rotate", key: service.adminKey, ["grace_seconds": -1]).status, 422)
    }

    func testLastUsedAtIsWrittenAtMostOnceAMinuteOffTheRequestPath() throws {
        let service = try TestService(test: self) { $0.keyUsageFlushInterval = 3600 }  // flushed by hand below
        let client = try service.client()
        for i in 0..<30 { XCTAssertEqual(try client.json("POST", "/v1/track", key: service.ingestKey, track("u\(i % 3)")).status, 200) }
        let lastUsed = "SELECT count(*) FROM api_keys WHERE name = 'ingest' AND last_used_at IS NOT NULL"
        XCTAssertEqual(try service.count(lastUsed), 0, "no write per request")
        XCTAssertEqual(try service.app.flushKeyUsage(), 1, "one row for thirty requests")
        XCTAssertEqual(try service.count(lastUsed), 1)
        let conn = try service.connection()
        let version = { try conn.query("SELECT xmin::text AS x, last_used_at FROM api_keys WHERE name = 'ingest'")[0] }
        let before = try version()

        // More requests within the minute: nothing is written, by this node or another.
        for _ in 0..<10 { XCTAssertEqual(try client.json("POST", "/v1/track", key: service.ingestKey, track("u1")).status, 200) }
        XCTAssertEqual(try service.app.flushKeyUsage(), 0)
        XCTAssertEqual(try version().decode(String.self, "x"), try before.decode(String.self, "x"), "the row was not updated")
        let other = KeyUsage()  // a second node that saw the key too
        other.note(try XCTUnwrap(try Store(conn).apiKeys().first { $0.name == "ingest" }).id, at: Date())
        XCTAssertEqual(try other.flush(pool: service.app.pool), 0, "the row is younger than a minute")

        // A use a minute later is written again.
        let id = try XCTUnwrap(try Store(conn).apiKeys().first { $0.name == "ingest" }).id
        // The time is computed here: Citus refuses `last_used_at - interval …` (a STABLE operator
        // over a column) in an UPDATE.
        let used = try XCTUnwrap(try before.decode(Date?.self, "last_used_at"))
        try conn.execute("UPDATE api_keys SET last_used_at = \(used.addingTimeInterval(-61)) WHERE id = \(id)")
        other.note(id, at: Date())
        XCTAssertEqual(try other.flush(pool: service.app.pool), 0, "this node wrote (or meant to write) it less than a minute ago")
        other.note(id, at: Date().addingTimeInterval(61))
        XCTAssertEqual(try other.flush(pool: service.app.pool), 1)
        // The list shows it.
        let listed = try client.json("GET", "/v1/keys", key: service.adminKey)
        let row = try XCTUnwrap((listed.json["data"] as? [[String: Any]])?.first { $0["name"] as? String == "ingest" })
        XCTAssertNotNil(row["last_used_at"] as? String)
    }

    func testPublicKeyMayOnlyUseTheSegmentEndpoints() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let created = try client.json("POST", "/v1/keys", key: service.adminKey, ["name": "web", "public": true])
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json["scopes"] as? [String], ["ingest"])
        XCTAssertEqual(created.json["public"] as? Bool, true)
        let key = try XCTUnwrap(created.json["key"] as? String)

        for kind in ["track", "identify", "page", "screen", "group", "alias"] {
            var body = track("u1")
            if kind == "alias" { body["previousId"] = "a1" }
            if kind == "group" { body["groupId"] = "g1" }
            let basic = "Basic " + Data("\(key):".utf8).base64EncodedString()
            let answer = try client.json("POST", "/v1/\(kind)", key: nil, body, headers: ["Authorization": basic])
            XCTAssertEqual(answer.status, 200, "\(kind): \(answer.text)")
        }
        var inBody = track("u2")
        inBody["writeKey"] = key
        XCTAssertEqual(try client.json("POST", "/v1/track", key: nil, inBody).status, 200, "writeKey in the body")
        XCTAssertEqual(try client.json("POST", "/v1/batch", key: key, ["batch": [track("u3").merging(["type": "track"]) { a, _ in a }]]).status, 200)

        // POST /v1/events answers with the lead's decision: never for a public key.
        for headers in [["Authorization": "Bearer \(key)"], [:]] {
            var body = track("u1")
            if headers.isEmpty { body["writeKey"] = key }
            let refused = try client.json("POST", "/v1/events", key: nil, body, headers: headers)
            XCTAssertEqual(refused.status, 403, refused.text)
            XCTAssertTrue((refused.json["detail"] as? String ?? "").contains("public key may call only the Segment-compatible endpoints"),
                          refused.text)
        }
        XCTAssertEqual(try client.json("GET", "/v1/leads?user_id=u1", key: key).status, 403)
        XCTAssertEqual(try client.json("GET", "/v1/keys", key: key).status, 403)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 8, "six single calls, one by body key, one batch")
    }

    func testOwnerBoundKeyClaimsAcksAndReleasesOnlyAsItsOwner() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let carla = try service.app.createKey(APIKeySettings(name: "carla-phone", scopes: [.queue], ownerId: "rep_carla"))
        let anna = try service.app.createKey(APIKeySettings(name: "anna-phone", scopes: [.queue], ownerId: "rep_anna"))
        let tool = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        // Two pricing requests from no territory: with anna and ben away, both items go to rep_carla
        // (round robin over the members with capacity, `territory_fallback: all`).
        for rep in ["rep_anna", "rep_ben"] {
            XCTAssertEqual(try client.json("PATCH", "/v1/owners/\(rep)", key: tool, ["available": false]).status, 200)
        }
        for user in ["u1", "u2"] {
            XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey,
                                           ["userId": user, "event": "Pricing Requested", "properties": [:] as [String: Any]]).status, 200)
        }
        for rep in ["rep_anna", "rep_ben"] {
            XCTAssertEqual(try client.json("PATCH", "/v1/owners/\(rep)", key: tool, ["available": true]).status, 200)
        }

        // Claiming as another owner is refused; anna's key claims as anna and finds nothing of carla's.
        let other = try client.json("POST", "/v1/queues/high-intent/claim", key: anna, ["owner_id": "rep_carla"])
        XCTAssertEqual(other.status, 403, other.text)
        XCTAssertEqual(other.json["detail"] as? String, "this key is bound to owner 'rep_anna' and cannot claim as 'rep_carla'")
        let annas = try client.json("POST", "/v1/queues/high-intent/claim", key: anna, [:] as [String: Any])
        XCTAssertEqual(annas.status, 200, annas.text)
        XCTAssertEqual((annas.json["data"] as? [Any])?.count, 0, "no owner given: claims as its owner, and these are carla's")

        // Carla's key with no owner given claims as rep_carla.
        let claim = try client.json("POST", "/v1/queues/high-intent/claim", key: carla, ["limit": 1])
        let item = try XCTUnwrap((claim.json["data"] as? [[String: Any]])?.first, claim.text)
        XCTAssertEqual(item["claimed_by"] as? String, "rep_carla")
        let itemID = try XCTUnwrap(item["id"] as? String), token = try XCTUnwrap(item["claim_token"] as? String)

        // Anna's key cannot ack, release or extend carla's item, even with its token.
        for verb in ["ack", "release", "extend"] {
            let refused = try client.json("POST", "/v1/queues/high-intent/items/\(itemID)/\(verb)", key: anna, ["claim_token": token])
            XCTAssertEqual(refused.status, 403, "\(verb): \(refused.text)")
        }
        // An item claimed by an unbound key (as nobody in particular) is not carla's to ack either.
        let toolClaim = try client.json("POST", "/v1/queues/high-intent/claim", key: tool, [:] as [String: Any])
        let toolItem = try XCTUnwrap((toolClaim.json["data"] as? [[String: Any]])?.first, toolClaim.text)
        let refused = try client.json("POST", "/v1/queues/high-intent/items/\(toolItem["id"]!)/release", key: carla,
                                      ["claim_token": toolItem["claim_token"]!])
        XCTAssertEqual(refused.status, 403, refused.text)
        XCTAssertEqual(refused.json["detail"] as? String, "this key is bound to owner 'rep_carla'; the item is held by 'sales-tool'")
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(toolItem["id"]!)/release", key: tool,
                                       ["claim_token": toolItem["claim_token"]!]).status, 200)

        // Carla's key acks its own item.
        let acked = try client.json("POST", "/v1/queues/high-intent/items/\(itemID)/ack", key: carla,
                                    ["claim_token": token, "outcome": "meeting_booked"])
        XCTAssertEqual(acked.status, 200, acked.text)
        XCTAssertEqual(acked.json["state"] as? String, "closed")

        // An owner-bound key changes only its own owner's availability.
        XCTAssertEqual(try client.json("PATCH", "/v1/owners/rep_anna", key: carla, ["available": false]).status, 403)
        XCTAssertEqual(try client.json("PATCH", "/v1/owners/rep_carla", key: carla, ["available": false]).status, 200)
    }

    /// An ack names an outcome of the ruleset's `sales.outcomes` (docs/queues.md): a CRM status
    /// (a customer's `converted` above all) or any other name is refused before anything changes.
    func testAckOutcomesAreThoseTheRulesetAllows() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        XCTAssertEqual(Set(service.app.engine.ruleset.salesOutcomes.keys), ["contacted", "meeting_booked", "no_answer", "disqualified"])
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey,
                                       ["userId": "u1", "event": "Pricing Requested", "properties": [:] as [String: Any]]).status, 200)
        let claim = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, [:] as [String: Any])
        let item = try XCTUnwrap((claim.json["data"] as? [[String: Any]])?.first, claim.text)
        let path = "/v1/queues/high-intent/items/\(item["id"]!)/ack"
        for outcome in ["converted", "unsubscribed", "new", "vip"] {
            let refused = try client.json("POST", path, key: queueKey, ["claim_token": item["claim_token"]!, "outcome": outcome])
            XCTAssertEqual(refused.status, 400, "\(outcome): \(refused.text)")
            let error = (refused.json["errors"] as? [[String: Any]])?.first
            XCTAssertEqual(error?["pointer"] as? String, "/outcome")
            XCTAssertEqual(error?["detail"] as? String,
                           "unknown outcome '\(outcome)': use one of contacted, disqualified, meeting_booked, no_answer (free text goes to note)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'claimed'"), 1, "nothing changed")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE customer"), 0)
        let acked = try client.json("POST", path, key: queueKey, ["claim_token": item["claim_token"]!])
        XCTAssertEqual(acked.status, 200, acked.text)
        XCTAssertEqual(acked.json["outcome"] as? String, "contacted", "the default outcome is allowed")
    }
}
