import Foundation
import XCTest
@testable import Cryptography

/// Write keys are public: everything a sender controls, over real sockets against a real
/// PostgreSQL. Bad input is a 4xx problem document that changes nothing, and no request ends
/// the process (each test checks the server still answers afterwards).
final class HostileInputTests: XCTestCase {
    private func post(_ client: TestHTTPClient, _ path: String, key: String, raw: String,
                      headers: [String: String] = [:]) throws -> TestResponse {
        var all = headers
        all["Authorization"] = "Bearer \(key)"
        all["Content-Type"] = "application/json"
        return try client.request("POST", path, headers: all, body: Array(raw.utf8))
    }

    private func pointers(_ r: TestResponse) -> [String] {
        (r.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
    }

    private func assertAlive(_ service: TestService, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try service.client().json("POST", "/v1/track", key: service.ingestKey, ["userId": "alive", "event": "Ping"])
        XCTAssertEqual(r.status, 200, "the server still ingests: \(r.text)", file: file, line: line)
    }

    // MARK: 1. Signature timestamps

    func testSignatureTimestampsThatWouldOverflowAre401AndTheServerLives() throws {
        let service = try TestService(test: self)
        let signed = try service.app.createKey(name: "signed", scopes: [.ingest], signingSecret: "s3cret")
        let client = try service.client()
        let body = #"{"userId":"u-sig","event":"Pricing Requested"}"#
        let mac = String(repeating: "0", count: 64)
        for t in ["-9223372036854775808", "9223372036854775807", "-1", "+1700000000", "1234567890123", "", "0x10", "1e3", "12 34"] {
            let r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": "t=\(t),v1=\(mac)"])
            XCTAssertEqual(r.status, 401, "t=\(t): \(r.text)")
            XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        }
        // Twelve digits parse; far from now, it is outside the tolerance (still 401, no trap).
        var r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": "t=999999999999,v1=\(mac)"])
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue((r.json["detail"] as? String)?.contains("away from the server clock") == true, r.text)
        let good = SignatureScheme.sign(body: Array(body.utf8), secret: Array("s3cret".utf8), timestamp: Int(Date().timeIntervalSince1970))
        r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": good])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
        try assertAlive(service)
    }

    // MARK: 4. A signing key signs every ingest route

    func testASigningKeyNeedsTheSignatureOnEveryIngestRoute() throws {
        let service = try TestService(test: self)
        let signed = try service.app.createKey(name: "signed", scopes: [.ingest], signingSecret: "s3cret")
        let client = try service.client()
        let bodies: [(String, String)] = [
            ("/v1/track", #"{"userId":"u-1","event":"Product Viewed"}"#),
            ("/v1/identify", #"{"userId":"u-1","traits":{"name":"A"}}"#),
            ("/v1/page", #"{"userId":"u-1","name":"Home"}"#),
            ("/v1/screen", #"{"userId":"u-1","name":"Home"}"#),
            ("/v1/group", #"{"userId":"u-1","groupId":"acct"}"#),
            ("/v1/alias", #"{"userId":"u-1","previousId":"a-1"}"#),
            ("/v1/batch", #"{"batch":[{"type":"track","userId":"u-1","event":"Product Viewed"}]}"#),
            ("/v1/events", #"{"userId":"u-1","event":"Product Viewed"}"#),
        ]
        for (path, body) in bodies {
            var r = try post(client, path, key: signed, raw: body)
            XCTAssertEqual(r.status, 401, "\(path) unsigned: \(r.text)")
            // Segment SDKs put the key in Basic auth or the body: no way around the signature either.
            let basic = "Basic " + Data("\(signed):".utf8).base64EncodedString()
            r = try client.request("POST", path, headers: ["Authorization": basic], body: Array(body.utf8))
            XCTAssertEqual(r.status, 401, "\(path) unsigned with Basic: \(r.text)")
            let wrong = SignatureScheme.sign(body: Array(body.utf8), secret: Array("nope".utf8), timestamp: Int(Date().timeIntervalSince1970))
            r = try post(client, path, key: signed, raw: body, headers: ["X-Leadrouter-Signature": wrong])
            XCTAssertEqual(r.status, 401, "\(path) signed with another secret: \(r.text)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "nothing unsigned was applied")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 0)
        for (path, body) in bodies {
            let header = SignatureScheme.sign(body: Array(body.utf8), secret: Array("s3cret".utf8), timestamp: Int(Date().timeIntervalSince1970))
            let r = try post(client, path, key: signed, raw: body, headers: ["X-Leadrouter-Signature": header])
            XCTAssertEqual(r.status, 200, "\(path) signed: \(r.text)")
        }
        // A key without a secret is unaffected.
        XCTAssertEqual(try post(client, "/v1/track", key: service.ingestKey, raw: bodies[0].1).status, 200)
    }

    // MARK: 2. Event times

    func testEventTimesOutsideTheWindowAre400AndStoreNothing() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let now = service.clock.now
        let cases: [(String, String)] = [
            (#"{"userId":"u-t","event":"X","timestamp":"0000-06-01T00:00:00.000Z"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-01-01T00:00:00Z"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"9999-12-31T23:59:59Z","sentAt":"0000-01-01T00:00:00Z"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"2099-01-01T00:00:00.000Z"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"1999-12-31T23:59:59.999Z"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"\#(iso(now.addingTimeInterval(25 * 3600)))"}"#, "/timestamp"),
            (#"{"userId":"u-t","event":"X","originalTimestamp":"0000-01-01T00:00:00Z"}"#, "/originalTimestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"\#(iso(now))","sentAt":"10000-01-01T00:00:00Z"}"#, "/sentAt"),
            (#"{"userId":"u-t","event":"X","timestamp":"\#(iso(now))","sentAt":"-0001-01-01T00:00:00Z"}"#, "/sentAt"),
            (#"{"userId":"u-t","event":"X","originalTimestamp":"292277026596-12-04T15:30:08Z"}"#, "/originalTimestamp"),
            (#"{"userId":"u-t","event":"X","timestamp":"0000-01-01T00:00:00-01:00"}"#, "/timestamp"),
        ]
        for path in ["/v1/track", "/v1/events"] {
            for (body, pointer) in cases {
                let r = try post(client, path, key: service.ingestKey, raw: body)
                XCTAssertEqual(r.status, 400, "\(path) \(body): \(r.text)")
                XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
                XCTAssertEqual(pointers(r), [pointer], "\(path) \(body): \(r.text)")
            }
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "nothing stored")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 0)

        // Inside the window: 23 h ahead, the year 2000, and a device clock off by centuries that
        // the skew correction puts right (sentAt measured on the same clock).
        let ok = [
            #"{"userId":"u-t","event":"X","timestamp":"\#(iso(now.addingTimeInterval(23 * 3600)))"}"#,
            #"{"userId":"u-t","event":"X","timestamp":"2000-01-01T00:00:00Z"}"#,
            #"{"userId":"u-t","event":"X","timestamp":"0001-01-01T00:00:00Z","sentAt":"0001-01-01T00:00:10Z"}"#,
            #"{"userId":"u-t","event":"X","originalTimestamp":"9999-01-01T00:00:00Z","sentAt":"9999-01-01T00:01:00Z"}"#,
        ]
        for body in ok {
            let r = try post(client, "/v1/track", key: service.ingestKey, raw: body)
            XCTAssertEqual(r.status, 200, "\(body): \(r.text)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 4)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM events WHERE occurred_at IN ('\(iso(now.addingTimeInterval(-10)))', '\(iso(now.addingTimeInterval(-60)))')
            """), 2, "skew-corrected times")
        let r = try client.json("GET", "/v1/leads?user_id=u-t", key: service.readKey)
        XCTAssertEqual(r.status, 200, "the lead still reads: \(r.text)")
        try assertAlive(service)
    }

    func testTheEventTimeWindowIsConfigurable() throws {
        let service = try TestService(test: self) { options in
            options.ingestLimits.earliestEventTime = Date(timeIntervalSince1970: 0)
            options.ingestLimits.maxEventTimeAheadSeconds = 60
        }
        let client = try service.client()
        var r = try post(client, "/v1/track", key: service.ingestKey, raw: #"{"userId":"u","event":"X","timestamp":"1995-05-05T00:00:00Z"}"#)
        XCTAssertEqual(r.status, 200, r.text)
        r = try post(client, "/v1/track", key: service.ingestKey,
                     raw: #"{"userId":"u","event":"X","timestamp":"\#(iso(service.clock.now.addingTimeInterval(120)))"}"#)
        XCTAssertEqual(r.status, 400, r.text)
        XCTAssertEqual(pointers(r), ["/timestamp"])
    }

    // MARK: 3. Strings, numbers, identifiers

    func testNULLoneSurrogatesNonFiniteNumbersAndLongIdentifiersAre400WithPointers() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let long = String(repeating: "x", count: 257)
        let cases: [(String, [String])] = [
            (#"{"userId":"u\u0000","event":"X"}"#, ["/userId"]),
            (#"{"userId":"u","event":"X","properties":{"a":"x\u0000y"}}"#, ["/properties/a"]),
            (#"{"userId":"u","event":"X","properties":{"a\u0000b":1}}"#, ["/properties/a\u{FFFD}b"]),
            (#"{"userId":"u","event":"X","context":{"deep":[{"x":"\uD800"}]}}"#, ["/context/deep/0/x"]),
            (#"{"userId":"u","event":"X","properties":{"s":"\uDC00\uD83D\uDE00"}}"#, ["/properties/s"]),
            (#"{"userId":"u","event":"X","traits":{"a/b~c":"\uD800x"}}"#, ["/traits/a~1b~0c"]),
            (#"{"userId":"u","event":"X","properties":{"n":1e999,"m":-1e400}}"#, ["/properties/m", "/properties/n"]),
            (#"{"userId":"\#(long)","event":"X"}"#, ["/userId"]),
            (#"{"anonymousId":"\#(long)","event":"X"}"#, ["/anonymousId"]),
            (#"{"userId":"u","event":"\#(long)"}"#, ["/event"]),
            (#"{"userId":"u","event":"X","messageId":"\#(long)"}"#, ["/messageId"]),
        ]
        for (body, expected) in cases {
            for path in ["/v1/track", "/v1/events"] {
                let r = try post(client, path, key: service.ingestKey, raw: body)
                XCTAssertEqual(r.status, 400, "\(path) \(body): \(r.text)")
                XCTAssertEqual(pointers(r).sorted(), expected, "\(path) \(body): \(r.text)")
            }
        }
        var r = try post(client, "/v1/group", key: service.ingestKey, raw: #"{"userId":"u","groupId":"\#(long)"}"#)
        XCTAssertEqual(pointers(r), ["/groupId"], r.text)
        r = try post(client, "/v1/alias", key: service.ingestKey, raw: #"{"userId":"u","previousId":"\#(long)"}"#)
        XCTAssertEqual(pointers(r), ["/previousId"], r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "nothing stored")
        // 256 bytes is fine; so are a paired surrogate and other control characters.
        let edge = String(repeating: "é", count: 128)
        r = try post(client, "/v1/track", key: service.ingestKey,
                     raw: #"{"userId":"\#(edge)","event":"X","properties":{"e":"\uD83D\uDE00 \u0001","n":1e308}}"#)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.storedEvents().filter { ($0.message["properties"] as? [String: Any])?["e"] as? String == "😀 \u{01}" }.count, 1)
        try assertAlive(service)
    }

    // MARK: 5. Batch semantics

    func testABatchAppliesItsValidMessagesAndListsTheRejectedOnes() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let now = iso(service.clock.now)
        let batch = """
            {"sentAt":"\(now)","batch":[
              {"type":"track","userId":"b-0","event":"Product Viewed","messageId":"m-0","timestamp":"\(now)"},
              {"type":"track","userId":"b-1","event":"Product Viewed","messageId":"m-1","properties":{"p":"\\u0000"}},
              {"type":"track","event":"Product Viewed","messageId":"m-2"},
              {"type":"identify","userId":"b-3","traits":{"email":"b3@example.org"},"messageId":"m-3"},
              {"type":"track","userId":"b-4","event":"Product Viewed","messageId":"m-4","timestamp":"0000-06-01T00:00:00.000Z"},
              "not an object",
              {"type":"track","userId":"b-6","event":"Product Viewed","properties":{"n":1e999}},
              {"type":"page","userId":"b-7","name":"Home","messageId":"m-7"}]}
            """
        var r = try post(client, "/v1/batch", key: service.ingestKey, raw: batch)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["success"] as? Bool, true)
        let rejected = r.json["rejected"] as? [[String: Any]] ?? []
        XCTAssertEqual(rejected.compactMap { $0["index"] as? Int }, [1, 2, 4, 5, 6], r.text)
        XCTAssertEqual(rejected.map { $0["messageId"] as? String }, ["m-1", "m-2", "m-4", nil, nil], r.text)
        let firstPointers = rejected.map { (($0["errors"] as? [[String: Any]])?.first?["pointer"] as? String) ?? "" }
        XCTAssertEqual(firstPointers, ["/batch/1/properties/p", "/batch/2/userId", "/batch/4/timestamp", "/batch/5", "/batch/6/properties/n"])
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 3, "track b-0, identify b-3, page b-7")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 3, "b-0, b-3, b-7")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id IN ('b-1', 'b-4', 'b-6')"), 0)
        // Counted per day, key and reason.
        XCTAssertEqual(try service.count("SELECT sum(count)::int FROM rejected_messages"), 5)
        XCTAssertEqual(try service.count("""
            SELECT count FROM rejected_messages WHERE reason = '/userId'
              AND write_key_id = (SELECT id FROM api_keys WHERE name = 'ingest') AND day = '\(now.prefix(10))'
            """), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM rejected_messages WHERE reason = '/'"), 1)
        // Again: the valid ones are duplicates, the invalid ones are listed and counted again.
        r = try post(client, "/v1/batch", key: service.ingestKey, raw: batch)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual((r.json["rejected"] as? [[String: Any]])?.count, 5)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 3)
        XCTAssertEqual(try service.count("SELECT sum(count)::int FROM rejected_messages"), 10)
        XCTAssertEqual(try service.count("SELECT count FROM rejected_messages WHERE reason = '/userId'"), 2)

        // Nothing rejected: the answer is the plain success.
        r = try post(client, "/v1/batch", key: service.ingestKey, raw: #"{"batch":[{"type":"track","userId":"b-9","event":"X"}]}"#)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, #"{"success":true}"#)
        // Not a batch: 400, nothing applied.
        for body in [#"{"batch":[{"type":"track","userId":"z","event":"X"}"#, #"{"messages":[]}"#, #"{"batch":{}}"#,
                     #"{"batch":[]}"#, "[1]", #"{"context":{"a":"\u0000"},"batch":[{"type":"track","userId":"z","event":"X"}]}"#,
                     #"{"sentAt":"0000-00-00","batch":[{"type":"track","userId":"z","event":"X"}]}"#] {
            r = try post(client, "/v1/batch", key: service.ingestKey, raw: body)
            XCTAssertEqual(r.status, 400, "\(body): \(r.text)")
            XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'z'"), 0)
        // The write key in the body (no Authorization header) still counts when a message is bad.
        let withKey = #"{"writeKey":"\#(service.ingestKey)","batch":[{"type":"track","userId":"k-0","event":"X"},{"type":"track","userId":"k\u0000","event":"X"}]}"#
        r = try client.request("POST", "/v1/batch", headers: ["Content-Type": "application/json"], body: Array(withKey.utf8))
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual((r.json["rejected"] as? [[String: Any]])?.compactMap { $0["index"] as? Int }, [1], r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'k-0'"), 1)
        try assertAlive(service)
    }

    // MARK: 7. A message PostgreSQL refuses fails alone

    /// After validation no message the default limits let through is known to be refused by
    /// PostgreSQL, so this test raises `maxIdentifierBytes` (a configurable limit) past what a
    /// btree index entry can hold: a 20 000-character random userId passes validation and the
    /// `identities` primary key refuses it (SQLSTATE 54000, index row size exceeds maximum) — a
    /// real refusal, no injected fault.
    func testAMessagePostgreSQLRefusesFailsAloneAndItsLaneBatchCommitsInOneRetry() throws {
        let service = try TestService(test: self) { options in
            options.ingestLimits.maxIdentifierBytes = 30_000
            options.ingestLanes = 1  // every message of the batch in the one lane: one lane batch
        }
        let client = try service.client()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let huge = String((0..<20_000).map { _ in alphabet.randomElement()! })

        // Alone, on a single-message endpoint: 400, problem+json, nothing stored.
        var r = try post(client, "/v1/track", key: service.ingestKey, raw: #"{"userId":"\#(huge)","event":"X","messageId":"h-0"}"#)
        XCTAssertEqual(r.status, 400, r.text)
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        XCTAssertTrue((r.json["detail"] as? String)?.contains("54000") == true, r.text)
        r = try post(client, "/v1/events", key: service.ingestKey, raw: #"{"userId":"\#(huge)","event":"X"}"#)
        XCTAssertEqual(r.status, 400, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0)

        // In a batch of 12 with two of them: those two are rejected, the ten others commit
        // together — in one transaction (one xmin), not one transaction each.
        var messages: [String] = []
        for i in 0..<12 {
            let user = (i == 3 || i == 8) ? huge + "\(i)" : "g-\(i)"
            messages.append(#"{"type":"track","userId":"\#(user)","event":"Product Viewed","messageId":"g-\#(i)"}"#)
        }
        r = try post(client, "/v1/batch", key: service.ingestKey, raw: #"{"batch":[\#(messages.joined(separator: ","))]}"#)
        XCTAssertEqual(r.status, 200, r.text)
        let rejected = r.json["rejected"] as? [[String: Any]] ?? []
        XCTAssertEqual(rejected.compactMap { $0["index"] as? Int }, [3, 8], r.text)
        XCTAssertEqual(rejected.map { $0["messageId"] as? String }, ["g-3", "g-8"])
        XCTAssertEqual(rejected.map { (($0["errors"] as? [[String: Any]])?.first?["pointer"] as? String) ?? "" }, ["/batch/3", "/batch/8"])
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id LIKE 'g-%'"), 10)
        // xmin is a transaction id of one server: on Citus one distributed transaction writes with
        // a local transaction on each worker connection it used, so the check is plain-only.
        if CitusTestDatabases.workerURLs.isEmpty {
            XCTAssertEqual(try service.count("SELECT count(DISTINCT xmin::text) FROM processed_messages WHERE message_id LIKE 'g-%'"), 1,
                           "the ten valid messages commit in one retry transaction")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE length(user_id) > 1000"), 0)
        XCTAssertEqual(try service.count("SELECT count FROM rejected_messages WHERE reason = '/'"), 2)
        try assertAlive(service)
    }

    // MARK: 6. The write scope

    func testChangingALeadNeedsTheWriteScope() throws {
        let service = try TestService(test: self)
        let writer = try service.app.createKey(name: "crm", scopes: [.read, .write])
        let client = try service.client()
        var r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-w", "event": "Pricing Requested"])
        let lead = try XCTUnwrap(r.json["lead_id"] as? String, r.text)
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.readKey, ["status": "converted"])
        XCTAssertEqual(r.status, 403, r.text)
        XCTAssertTrue((r.json["detail"] as? String)?.contains("'write'") == true, r.text)
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.ingestKey, ["status": "converted"])
        XCTAssertEqual(r.status, 403)
        r = try client.json("GET", "/v1/leads/\(lead)", key: service.readKey)
        XCTAssertEqual(r.json["status"] as? String, "qualified", "a refused PATCH changes nothing")
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: writer, ["status": "contacted"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["status"] as? String, "contacted")
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.adminKey, ["status": "converted"])
        XCTAssertEqual(r.status, 200, "admin implies write: \(r.text)")
        let writeOnly = try service.app.createKey(name: "writer", scopes: [.write])
        r = try client.json("GET", "/v1/leads/\(lead)", key: writeOnly)
        XCTAssertEqual(r.status, 403, "write does not imply read")
    }
}
