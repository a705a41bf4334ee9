import Foundation
import Logging
import Postgres
import XCTest
@testable import Cryptography
@testable import Essentials
@testable import HTTPAPI
@testable import Ingest
@testable import JSONCoding
@testable import LeadRouterService
@testable import LeadStore
@testable import OutboundHTTP
@testable import Profiles
@testable import RulesTools
@testable import SalesQueues
@testable import Webhooks

/// Abuse at the edge, over real sockets and a real PostgreSQL: 429 per key and per client
/// address, the body's `writeKey` read only after the cheap checks, `statement_timeout` on
/// write-path transactions (503), and `/readyz` without libpq's message.
final class AbuseLimitsTests: XCTestCase {
    private func assertTooManyRequests(_ r: TestResponse, retryAfter: ClosedRange<Int>, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 429, r.text, file: file, line: line)
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json", file: file, line: line)
        XCTAssertEqual(r.json["status"] as? Int, 429, file: file, line: line)
        XCTAssertNotNil(r.json["detail"] as? String, file: file, line: line)
        let seconds = r.header("Retry-After").flatMap(Int.init)
        XCTAssertNotNil(seconds, "Retry-After in whole seconds", file: file, line: line)
        if let seconds { XCTAssertTrue(retryAfter.contains(seconds), "Retry-After \(seconds)", file: file, line: line) }
    }

    private static func randomKey() -> String { "lr_" + Hex.encode(Crypto.randomBytes(20)) }

    // MARK: - per key

    func testEachKeyHasItsOwnBucketAnd429CarriesRetryAfter() throws {
        let service = try TestService(test: self) { $0.rateLimits.perKey = .init(rate: 0.25, burst: 3) }
        let client = try service.client()
        for _ in 0..<3 { XCTAssertEqual(try client.json("GET", "/v1/segments", key: service.readKey).status, 200) }
        // One token every 4 s: the wait is rounded up to whole seconds.
        let limited = try client.json("GET", "/v1/segments", key: service.readKey)
        assertTooManyRequests(limited, retryAfter: 3...4)
        XCTAssertTrue((limited.json["detail"] as? String ?? "").contains("0.25 requests per second"), limited.text)
        // Another key is not affected; Segment's Basic auth counts the same as Bearer.
        let basic = "Basic " + Data("\(service.ingestKey):".utf8).base64EncodedString()
        for i in 0..<3 {
            let r = try client.json("POST", "/v1/identify", key: nil, ["userId": "u-\(i)"], headers: ["Authorization": basic])
            XCTAssertEqual(r.status, 200, r.text)
        }
        assertTooManyRequests(try client.json("POST", "/v1/identify", key: nil, ["userId": "u-9"], headers: ["Authorization": basic]),
                              retryAfter: 3...4)
        assertTooManyRequests(try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-9", "event": "x"]),
                              retryAfter: 3...4)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 3, "a limited request writes nothing")
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: service.adminKey).status, 200)
        // Unauthenticated routes are not limited per key.
        for _ in 0..<5 { XCTAssertEqual(try client.json("GET", "/healthz", key: nil).status, 200) }
    }

    // MARK: - per client address

    func testRandomKeysFromOneAddressGet429WithoutKeyLookupsWhileAValidKeyKeepsWorking() throws {
        let service = try TestService(test: self) { $0.rateLimits.perPeer = .init(rate: 0.5, burst: 5) }
        let keys = service.app.authenticator.keys
        let client = try service.client()
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: service.readKey).status, 200)  // now cached

        let statuses = Locked<[Int: Int]>([:])
        let flood = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: flood) {
                guard let attacker = try? service.client() else { return }
                for i in 0..<100 {
                    // Header keys, Basic keys and body writeKeys, all random.
                    let key = Self.randomKey()
                    let r: TestResponse?
                    switch i % 3 {
                    case 0: r = try? attacker.json("GET", "/v1/segments", key: key)
                    case 1: r = try? attacker.json("POST", "/v1/track", key: nil, ["userId": "u", "event": "e"],
                                                   headers: ["Authorization": "Basic " + Data("\(key):".utf8).base64EncodedString()])
                    default: r = try? attacker.json("POST", "/v1/track", key: nil, ["writeKey": key, "userId": "u", "event": "e"])
                    }
                    statuses.withLock { $0[r?.status ?? 0, default: 0] += 1 }
                }
            }
        }
        var valid = 0
        while flood.wait(timeout: .now()) == .timedOut {
            let r = try client.json("GET", "/v1/segments", key: service.readKey)
            XCTAssertEqual(r.status, 200, "the valid key keeps working during the flood: \(r.text)")
            valid += 1
        }
        XCTAssertGreaterThan(valid, 0)
        let seen = statuses.withLock { $0 }
        XCTAssertEqual(Set(seen.keys), [401, 429], "\(seen)")
        XCTAssertEqual(seen.values.reduce(0, +), 400)
        // Only the burst (plus what raced past the check) reached the key lookup.
        let looked = keys.cachedCounts.unknown
        XCTAssertLessThanOrEqual(seen[401] ?? 0, 5 + 4, "\(seen)")
        XCTAssertLessThanOrEqual(looked, 5 + 4, "unknown keys looked up in the database")
        XCTAssertGreaterThanOrEqual(seen[429] ?? 0, 390, "\(seen)")

        let limited = try client.json("GET", "/v1/segments", key: Self.randomKey())
        assertTooManyRequests(limited, retryAfter: 1...2)
        XCTAssertTrue((limited.json["detail"] as? String ?? "").contains("without a valid API key"), limited.text)
        XCTAssertEqual(keys.cachedCounts.unknown, looked, "no lookup while limited")
        // A valid key this node has not cached yet is not looked up either while the address is limited…
        assertTooManyRequests(try client.json("GET", "/v1/segments", key: service.adminKey), retryAfter: 1...2)
        // …nor is a request without any key let through to 401.
        assertTooManyRequests(try client.json("GET", "/v1/segments", key: nil), retryAfter: 1...2)
        // The bucket refills at its rate: two seconds give one more failure.
        usleep(2_100_000)
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: Self.randomKey()).status, 401)
        XCTAssertEqual(try client.json("GET", "/v1/segments", key: Self.randomKey()).status, 429)
    }

    /// Without an `Authorization` header the key is in the body: it is read only after the
    /// route's body limit, the `Content-Encoding` and the per-address limit were checked.
    func testTheBodyWriteKeyIsReadOnlyAfterTheCheapChecks() throws {
        let service = try TestService(test: self) { $0.rateLimits.perPeer = .init(rate: 0.1, burst: 3) }
        let body = Array(try JSONSerialization.data(withJSONObject: ["writeKey": service.ingestKey, "userId": "u-1", "event": "e"]))
        let json = ["Content-Type": "application/json"]
        let client = try service.client()

        // Too large by Content-Length: 413 before a byte of the body is read (the connection closes).
        let big = try service.client().request("POST", "/v1/track", headers: json, body: [UInt8](repeating: 0x20, count: 40_000))
        XCTAssertEqual(big.status, 413, big.text)
        // An unsupported encoding: 415, the body is not looked at (counts as a failure of this address).
        let brotli = try client.request("POST", "/v1/track", headers: json.merging(["Content-Encoding": "br"]) { $1 }, body: body)
        XCTAssertEqual(brotli.status, 415, brotli.text)
        // The body's key works.
        XCTAssertEqual(try client.request("POST", "/v1/track", headers: json, body: body).status, 200)
        // Two unknown body keys use up the address's bucket (3, one taken by the 415).
        for _ in 0..<2 {
            let unknown = Array(try JSONSerialization.data(withJSONObject: ["writeKey": Self.randomKey(), "userId": "u-1", "event": "e"]))
            XCTAssertEqual(try client.request("POST", "/v1/track", headers: json, body: unknown).status, 401)
        }
        // Limited: a body that is not even valid gzip is answered 429, not 400: it was never inflated…
        let garbage = try client.request("POST", "/v1/track", headers: json.merging(["Content-Encoding": "gzip"]) { $1 },
                                         body: Array("this is not gzip".utf8))
        assertTooManyRequests(garbage, retryAfter: 8...10)
        // …and a valid body key is not read either,
        assertTooManyRequests(try client.request("POST", "/v1/track", headers: json, body: body), retryAfter: 8...10)
        // while the same key, cached, in the header goes through.
        XCTAssertEqual(try client.json("POST", "/v1/track", key: service.ingestKey, ["userId": "u-1", "event": "e"]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 2)
    }

    // MARK: - statement_timeout

    func testAWriteStatementPastTheTimeoutAnswers503() throws {
        let service = try TestService(test: self) { $0.statementTimeout = 0.3 }
        let client = try service.client()
        func event(_ id: String) throws -> TestResponse {
            try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-1", "event": "Product Viewed", "messageId": id])
        }
        XCTAssertEqual(try event("m-1").status, 200)
        // Hold a lock the lane's transaction needs: its statement waits past the timeout (57014).
        let locker = try service.connection()
        try locker.executeScript(unsafeSQL: "BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE")
        let started = Date()
        let refused = try event("m-2")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "the timeout, not the lock, ended it")
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.header("Retry-After"), "1")
        XCTAssertEqual(refused.header("Content-Type"), "application/problem+json")
        XCTAssertEqual(refused.json["detail"] as? String, "the database is unavailable; nothing was stored (rolled back): retry later")
        try locker.executeScript(unsafeSQL: "ROLLBACK")
        // Nothing of it was written; re-sent, it applies.
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 1)
        XCTAssertEqual(try event("m-2").status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 2)
    }

    // MARK: - /readyz

    func testReadyzShowsAGenericDetailAndLogsTheDatabaseError() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "readyz") { _ in captured.handler() }
        logger.logLevel = .warning
        let service = try TestService(test: self, logger: logger)
        let client = try service.client()
        XCTAssertEqual(try client.json("GET", "/readyz", key: nil).status, 200)

        let components = URLComponents(string: service.url)!
        let name = String(components.path.dropFirst())
        let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        addTeardownBlock { try? admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true") }
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")

        // The first probe may meet a pooled connection that was just killed ("server closed the
        // connection"), the next ones fail to connect (libpq names host, port, database): every
        // answer is the same generic detail.
        for _ in 0..<3 {
            let r = try client.json("GET", "/readyz", key: nil)
            XCTAssertEqual(r.status, 503, r.text)
            XCTAssertEqual(r.json["status"] as? String, "not_ready")
            let database = (r.json["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "database" }
            XCTAssertEqual(database?["detail"] as? String, "database unreachable")
            for secret in [name, components.host ?? "127.0.0.1", "port", "FATAL", "connection", "server"] + [components.user].compactMap({ $0 }) {
                XCTAssertFalse(r.text.contains(secret), "/readyz shows \(secret): \(r.text)")
            }
        }
        let logged = captured.lines.filter { $0.contains("readiness: database unreachable") }
        XCTAssertFalse(logged.isEmpty, captured.lines.joined(separator: "\n"))
        XCTAssertNotNil(logged.first { $0.contains(name) }, "the log has libpq's full message: \(logged)")
    }
}

/// The key cache, the address key and the settings, without sockets.
final class AbuseLimitsUnitTests: XCTestCase {
    func testAFloodOfUnknownKeysDoesNotEvictABusyValidKey() throws {
        let good = StoredAPIKey(id: UUID(), name: "good", scopes: [.ingest], signingSecret: nil)
        let goodHash = APIKeyHash.of("lr_good")
        let lookups = Locked<[[UInt8]: Int]>([:])
        let now = Locked(0.0)
        let directory = APIKeyDirectory(cacheSeconds: 10, negativeCacheSeconds: 2, capacity: 1000,
                                        clock: { now.withLock { $0 } }) { hash in
            lookups.withLock { $0[hash, default: 0] += 1 }
            return hash == goodHash ? good : nil
        }
        XCTAssertEqual(directory.cachedKey(presented: "lr_good"), .notCached)
        XCTAssertEqual(try directory.key(presented: "lr_good"), good)
        for i in 0..<100_000 {
            XCTAssertNil(try directory.key(presented: "lr_random_\(i)"))
            if i % 1000 == 0 { XCTAssertEqual(try directory.key(presented: "lr_good"), good) }
        }
        XCTAssertEqual(lookups.withLock { $0[goodHash] }, 1, "the busy key was never evicted")
        XCTAssertEqual(directory.cachedCounts.known, 1)
        XCTAssertEqual(directory.cachedCounts.unknown, 1000, "bounded")
        XCTAssertEqual(directory.cachedKey(presented: "lr_good"), .known(good))
        XCTAssertEqual(directory.cachedKey(presented: "lr_random_99999"), .unknown)
        XCTAssertEqual(directory.cachedKey(presented: "lr_random_0"), .notCached, "the oldest unknown keys were evicted")

        // Unknown keys are forgotten sooner than known ones (a key just created starts working).
        now.withLock { $0 = 2.5 }
        XCTAssertEqual(directory.cachedKey(presented: "lr_random_99999"), .notCached)
        XCTAssertEqual(directory.cachedKey(presented: "lr_good"), .known(good))
        now.withLock { $0 = 10.5 }
        XCTAssertEqual(directory.cachedKey(presented: "lr_good"), .notCached)
        XCTAssertEqual(try directory.key(presented: "lr_good"), good)
        XCTAssertEqual(lookups.withLock { $0[goodHash] }, 2)
    }

    func testAKnownKeyIsNotPushedOutByUnknownOnesEvenWhenIdle() throws {
        let idle = StoredAPIKey(id: UUID(), name: "idle", scopes: [.read], signingSecret: nil)
        let directory = APIKeyDirectory(capacity: 10, clock: { 0 }) { $0 == APIKeyHash.of("lr_idle") ? idle : nil }
        XCTAssertEqual(try directory.key(presented: "lr_idle"), idle)
        for i in 0..<1000 { _ = try directory.key(presented: "lr_x\(i)") }
        XCTAssertEqual(directory.cachedKey(presented: "lr_idle"), .known(idle))
    }

    func testPeerAddressKeys() {
        XCTAssertEqual(PeerAddress.key("203.0.113.7:51234"), "203.0.113.7")
        XCTAssertEqual(PeerAddress.key("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64")
        XCTAssertEqual(PeerAddress.key("[2001:db8:1:2:ffff::9]:1"), "2001:db8:1:2::/64", "one /64, one bucket")
        XCTAssertEqual(PeerAddress.key("[::ffff:198.51.100.4]:80"), "198.51.100.4")
        XCTAssertEqual(PeerAddress.key("[::1]:80"), "0:0:0:0::/64")
        XCTAssertEqual(PeerAddress.key("unknown"), "unknown")
        XCTAssertEqual(PeerAddress.key(""), "")
    }

    func testRateLimitAndStatementTimeoutSettings() throws {
        let c = try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [
            "LEADROUTER_RATE_LIMIT_KEY_RATE": "250", "LEADROUTER_RATE_LIMIT_KEY_BURST": "500",
            "LEADROUTER_RATE_LIMIT_PEER_RATE": "0.5", "LEADROUTER_RATE_LIMIT_PEER_BURST": "20",
            "LEADROUTER_RATE_LIMIT_MAX_TRACKED": "4096", "LEADROUTER_DATABASE_STATEMENT_TIMEOUT": "750ms"])
        XCTAssertEqual(c.rateLimits.perKey, .init(rate: 250, burst: 500))
        XCTAssertEqual(c.rateLimits.perPeer, .init(rate: 0.5, burst: 20))
        XCTAssertEqual(c.rateLimits.maxTracked, 4096)
        XCTAssertEqual(c.statementTimeout, 0.75)
        let defaults = ServiceConfiguration()
        XCTAssertEqual(defaults.rateLimits.perKey, .init(rate: 1000, burst: 2000))
        XCTAssertEqual(defaults.rateLimits.perPeer, .init(rate: 10, burst: 100))
        XCTAssertEqual(defaults.statementTimeout, 5)
        let off = try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [
            "LEADROUTER_RATE_LIMIT_KEY_RATE": "0", "LEADROUTER_DATABASE_STATEMENT_TIMEOUT": "0"])
        XCTAssertTrue(off.rateLimits.perKey.isUnlimited)
        XCTAssertNil(off.statementTimeout)
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_RATE_LIMIT_KEY_RATE": "-1"]))
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_RATE_LIMIT_KEYRATE": "1"]),
                             "a typo is an unknown setting")
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_DATABASE_STATEMENT_TIMEOUT": "2h"]))
    }
}
