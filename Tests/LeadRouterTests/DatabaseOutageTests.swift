import Foundation
import Postgres
import XCTest
@testable import Essentials

/// The database going away: ingest answers 503 with Retry-After and writes nothing half; once
/// the database is back the same process serves again, and every 2xx'd event is present.
final class DatabaseOutageTests: XCTestCase {
    func testUnreachableDatabaseGives503AndServiceRecoversWithoutRestart() throws {
        let service = try TestService(test: self) { $0.maxDatabaseConnections = 4 }
        let client = try service.client()
        var accepted = 0
        func send(_ i: Int) throws -> Int {
            let r = try client.json("POST", "/v1/track", key: service.ingestKey, [
                "userId": "u-\(i % 3)", "event": "Product Viewed", "messageId": "m-\(i)", "timestamp": iso(service.clock.now)])
            if r.status == 200 { accepted += 1 } else {
                XCTAssertEqual(r.status, 503, r.text)
                XCTAssertEqual(r.header("Retry-After"), "1")
                XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
            }
            return r.status
        }
        for i in 0..<10 { XCTAssertEqual(try send(i), 200) }

        // Outage: no new connections, existing ones killed.
        let name = String(URLComponents(string: service.url)!.path.dropFirst())
        let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")
        var refused = 0
        for i in 10..<20 where try send(i) == 503 { refused += 1 }
        XCTAssertEqual(refused, 10)
        let ready = try client.json("GET", "/readyz", key: nil)
        XCTAssertEqual(ready.status, 503)

        // Back: the same process serves again; the refused messages are re-sent by the client.
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        for i in 10..<20 { XCTAssertEqual(try send(i), 200) }
        XCTAssertEqual(accepted, 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 20)
        XCTAssertEqual(try client.json("GET", "/readyz", key: nil).status, 200)
    }

    func testEveryAcknowledgedEventSurvivesAnOutageMidLoad() throws {
        let service = try TestService(test: self) { $0.maxDatabaseConnections = 6 }
        let name = String(URLComponents(string: service.url)!.path.dropFirst())
        let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
        let acknowledged = ConcurrentResults<String>()
        let refused = ConcurrentResults<Int>()
        let stopping = Locked(false)
        let senders = DispatchGroup()
        for sender in 0..<6 {
            DispatchQueue.global().async(group: senders) {
                guard let client = try? service.client() else { return }
                var i = 0
                while !stopping.withLock({ $0 }) {
                    i += 1
                    let id = "load-\(sender)-\(i)"
                    let body = Array((try? JSONSerialization.data(withJSONObject: [
                        "userId": "u-\(i % 10)", "event": "Product Viewed", "messageId": id])) ?? Data())
                    guard let r = try? client.request("POST", "/v1/events", headers: ["Authorization": "Bearer \(service.ingestKey)"], body: body)
                    else { return }
                    if r.status == 200 { acknowledged.record { id } } else { refused.record { r.status } }
                }
            }
        }
        usleep(300_000)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")
        usleep(500_000)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        usleep(500_000)
        stopping.withLock { $0 = true }
        senders.wait()

        let ids = try acknowledged.values()
        XCTAssertGreaterThan(ids.count, 0)
        XCTAssertGreaterThan(try refused.values().count, 0, "the outage was seen")
        XCTAssertEqual(Set(try refused.values()), [503])
        let conn = try service.connection()
        let stored = Set(try conn.query("SELECT message_id FROM processed_messages").map { try $0.decode(String.self, "message_id") })
        XCTAssertEqual(Set(ids).subtracting(stored), [], "every 2xx'd event is committed")
        // Nothing half-written: every event has its idempotency record and its decision.
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), stored.count)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), stored.count)
    }
}

/// Honest outcomes: a connection lost during COMMIT leaves the outcome unknown, and the API says
/// so (503 with its own problem type) instead of claiming a rollback; a connection lost before
/// COMMIT is the plain 503 "rolled back". The connection is killed for real
/// (`pg_terminate_backend`) from the lane's transaction, after its reads and before the round
/// trip that carries its writes and COMMIT.
final class CommitOutcomeTests: XCTestCase {
    enum Kill { case duringCommit, beforeCommit }

    func service(_ kill: Locked<Kill?>) throws -> TestService {
        try TestService(test: self) { options in
            options.ingestBeforeCommit = { transaction in
                guard let mode = kill.withLock({ k -> Kill? in defer { k = nil }; return k }) else { return }
                let pid = transaction.connection.backendPID
                let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
                try admin.query("SELECT pg_terminate_backend(\(pid))")
                for _ in 0..<500 where try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").scalar(Int.self) > 0 {
                    usleep(10_000)
                }
                // The writes go out now, in a round trip of their own: the connection is lost before COMMIT.
                if mode == .beforeCommit { try transaction.send() }
            }
        }
    }

    func testConnectionLostDuringCommitAnswersOutcomeUnknownAndARetryWithTheSameMessageIdAppliesOnce() throws {
        let kill = Locked<Kill?>(nil)
        let service = try service(kill)
        let client = try service.client()
        let body: [String: Any] = ["userId": "u-1", "event": "Product Viewed", "messageId": "m-1"]
        kill.withLock { $0 = .duringCommit }
        let unknown = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(unknown.status, 503, unknown.text)
        XCTAssertEqual(unknown.header("Retry-After"), "1")
        XCTAssertEqual(unknown.header("Content-Type"), "application/problem+json")
        XCTAssertEqual(unknown.json["type"] as? String, "https://leadrouter.dev/problems/outcome-unknown")
        XCTAssertEqual(unknown.json["title"] as? String, "Outcome unknown")
        XCTAssertEqual(unknown.json["detail"] as? String, "the outcome is unknown: retry with the same messageId")

        // The client retries with the same messageId: applied exactly once, whatever the first outcome.
        let retried = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(retried.status, 200, retried.text)
        let again = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertEqual(again.body, retried.body, "the stored answer")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 1)

        // A /v1/batch whose lane lost its connection during COMMIT says the same.
        kill.withLock { $0 = .duringCommit }
        let batch = try client.json("POST", "/v1/batch", key: service.ingestKey, ["batch": [
            ["type": "track", "userId": "u-2", "event": "Product Viewed", "messageId": "b-1"],
            ["type": "track", "userId": "u-2", "event": "Product Added", "messageId": "b-2"]]])
        XCTAssertEqual(batch.status, 503, batch.text)
        XCTAssertEqual(batch.json["type"] as? String, "https://leadrouter.dev/problems/outcome-unknown")
    }

    func testConnectionLostBeforeCommitIsThePlainRolledBack503() throws {
        let kill = Locked<Kill?>(nil)
        let service = try service(kill)
        let client = try service.client()
        let body: [String: Any] = ["userId": "u-1", "event": "Product Viewed", "messageId": "m-1"]
        kill.withLock { $0 = .beforeCommit }
        let refused = try client.json("POST", "/v1/track", key: service.ingestKey, body)
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.header("Retry-After"), "1")
        XCTAssertEqual(refused.json["type"] as? String, "about:blank")
        XCTAssertEqual(refused.json["detail"] as? String, "the database is unavailable; nothing was stored (rolled back): retry later")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "rolled back")
        XCTAssertEqual(try client.json("POST", "/v1/track", key: service.ingestKey, body).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
    }
}
