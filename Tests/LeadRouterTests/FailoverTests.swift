import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// A primary with a synchronous standby, two `leadrouter serve` processes on the multi-host URL
/// (`target_session_attrs=read-write`) and 16 clients sending unique messages. The primary is
/// killed mid-load (`pg_ctl -m immediate stop`) and the standby promoted a second later: every
/// message answered 2xx is on the promoted server, the nodes answer only 503 (with
/// `Retry-After`) during the switch and 200 again after it, without being restarted.
/// docs/scale-out.md has the settings and what this does and does not guarantee.
final class FailoverTests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    /// One request's fate: when it was answered (seconds since the load began), its status
    /// (0 for a transport error or timeout), whether a 503 carried Retry-After.
    private struct Outcome: Sendable {
        var at: Double
        var status: Int
        var messageId: String
        var retryAfter: Bool
    }

    func testNodesRideOutAPrimaryFailoverWithoutLosingAcknowledgedMessages() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let cluster = try ReplicatedPostgres(synchronous: true)
        defer { cluster.stop() }
        let nodes = try (0..<2).map { _ in try ServeNode.start(binary: binary, databaseURL: cluster.multiHostURL) }
        defer { for node in nodes { node.process.terminate(); node.process.waitUntilExit() } }
        let key = try ServeNode.createKey(binary: binary, databaseURL: cluster.multiHostURL, name: "failover")

        let outcomes = ConcurrentResults<[Outcome]>()
        let begin = Date()
        let loadSeconds = 14.0
        let load = DispatchGroup()
        let ports = nodes.map(\.port)
        DispatchQueue.global().async(group: load) {
            DispatchQueue.concurrentPerform(iterations: 16) { client in
                outcomes.record { try Self.send(client: client, ports: ports, key: key, begin: begin, until: loadSeconds) }
            }
        }
        Thread.sleep(forTimeInterval: 4)
        let killedAt = Date().timeIntervalSince(begin)
        try cluster.killPrimary()
        Thread.sleep(forTimeInterval: 1)
        try cluster.promoteStandby()
        let promotedAt = Date().timeIntervalSince(begin)
        load.wait()

        let all = try outcomes.values().flatMap { $0 }.sorted { $0.at < $1.at }
        let ok = all.filter { $0.status == 200 }
        let failed = all.filter { $0.status != 200 }
        XCTAssertTrue(failed.allSatisfy { $0.status == 503 }, "only 503s: \(Set(failed.map(\.status)))")
        XCTAssertTrue(failed.allSatisfy(\.retryAfter), "every 503 says Retry-After")
        XCTAssertFalse(failed.contains { $0.at < killedAt }, "no failure before the primary died")
        let lastFailure = failed.last?.at ?? killedAt
        let recovered = lastFailure - promotedAt
        XCTAssertLessThan(recovered, 5, "both nodes answer 200 again within 5 s of the promotion")
        XCTAssertGreaterThan(ok.filter { $0.at > lastFailure }.count, 100, "and keep answering 200 afterwards")
        print("failover: \(ok.count) answered 200, \(failed.count) answered 503; primary killed at \(String(format: "%.2f", killedAt)) s, promote returned at \(String(format: "%.2f", promotedAt)) s; 503s from \(String(format: "%.2f", failed.first?.at ?? 0)) s to \(String(format: "%.2f", lastFailure)) s: 200s again \(String(format: "%.2f", lastFailure - killedAt)) s after the kill, \(String(format: "%.2f", recovered)) s after promote returned")

        // Nothing acknowledged is lost, and nothing half-written: every stored event has its
        // idempotency record and its decision (one transaction wrote all three).
        let promoted = try PostgresConnection(url: cluster.standbyURL, logger: TestDatabases.logger)
        let ids = ok.map(\.messageId)
        XCTAssertEqual(try promoted.query("SELECT count(*) FROM processed_messages WHERE message_id = ANY(\(ids))").scalar(Int.self), ids.count)
        XCTAssertEqual(try promoted.query("""
            SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM processed_messages p WHERE p.event_id = e.id)
               OR NOT EXISTS (SELECT 1 FROM decisions d WHERE d.event_id = e.id)
            """).scalar(Int.self), 0)
        XCTAssertFalse(try promoted.query("SELECT pg_is_in_recovery()").scalar(Bool.self))
        // Each node's two listeners (queue wake-ups and ruleset activations) LISTEN again on the
        // promoted server (they reconnect with backoff).
        let expected = 2 * nodes.count
        let deadline = Date().addingTimeInterval(15)
        var listening = 0
        repeat {
            listening = try promoted.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'").scalar(Int.self)
            if listening < expected { Thread.sleep(forTimeInterval: 0.2) }
        } while listening < expected && Date() < deadline
        XCTAssertEqual(listening, expected, "every node's queue and ruleset listeners are back")
        for node in nodes { XCTAssertTrue(node.process.isRunning, "no node restarted or crashed") }
    }

    /// A COMMIT waiting for a synchronous standby that is gone is not bounded by
    /// `statement_timeout`: the request answers 503 "outcome unknown" with `Retry-After` after
    /// `database.commit_wait`, and the same messageId sent again once commits go through again
    /// answers 200 with the one stored decision.
    func testACommitStuckOnAGoneSynchronousStandbyAnswers503() throws {
        let cluster = try ReplicatedPostgres(synchronous: true)
        defer { cluster.stop() }
        let app = try cluster.app { $0.commitWait = 2 }
        defer { try? cluster.setSynchronousStandbyNames(""); app.stop() }  // released commits let the lanes stop
        let key = try app.createKey(name: "stuck", scopes: [.ingest])
        try cluster.stopStandby()
        let client = try TestHTTPClient(port: app.port!)
        let started = Date()
        var r = try client.json("POST", "/v1/events", key: key, ["userId": "stuck-1", "event": "Product Viewed", "messageId": "stuck-1"])
        XCTAssertEqual(r.status, 503, r.text)
        XCTAssertEqual(r.header("Retry-After"), "1")
        XCTAssertEqual(r.json["type"] as? String, "https://leadrouter.dev/problems/outcome-unknown", r.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // The operator lowers synchronous_standby_names: the waiting COMMIT completes.
        try cluster.setSynchronousStandbyNames("")
        r = try client.json("POST", "/v1/events", key: key, ["userId": "stuck-1", "event": "Product Viewed", "messageId": "stuck-1"])
        XCTAssertEqual(r.status, 200, r.text)
        let primary = try PostgresConnection(url: cluster.primaryURL, logger: TestDatabases.logger)
        XCTAssertEqual(try primary.query("SELECT count(*) FROM events").scalar(Int.self), 1, "applied once")
    }

    /// One client: unique messages, alternately to each node, until `until` seconds after `begin`.
    private static func send(client: Int, ports: [Int], key: String, begin: Date, until: Double) throws -> [Outcome] {
        var connections: [Int: TestHTTPClient] = [:]
        var outcomes: [Outcome] = []
        var i = 0
        while Date().timeIntervalSince(begin) < until {
            let port = ports[(client + i) % ports.count]
            let messageId = "fo-\(client)-\(i)"
            let body = Array(try JSONSerialization.data(withJSONObject: [
                "userId": "fo-user-\(client)-\(i % 20)", "event": "Product Viewed", "messageId": messageId,
                "properties": ["category": "skincare-sets"]]))
            var outcome = Outcome(at: 0, status: 0, messageId: messageId, retryAfter: false)
            do {
                let http = try connections[port] ?? TestHTTPClient(port: port, timeout: 8)
                connections[port] = http
                let response = try http.request("POST", "/v1/events", headers: ["Authorization": "Bearer \(key)"], body: body)
                outcome.status = response.status
                outcome.retryAfter = response.header("Retry-After") != nil
            } catch {
                connections[port] = nil
            }
            outcome.at = Date().timeIntervalSince(begin)
            outcomes.append(outcome)
            if outcome.status != 200 { Thread.sleep(forTimeInterval: 0.05) }
            i += 1
        }
        return outcomes
    }
}
