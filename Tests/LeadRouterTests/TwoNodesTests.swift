import Foundation
import Postgres
import XCTest

/// Two `leadrouter serve` processes on one database (both with --migrate at once): the same
/// messages sent to both, concurrently, are applied exactly once; one lead is never evaluated
/// by both at the same time (its row lock serialises them), so counts come out exact.
final class TwoNodesTests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    func testTwoServeProcessesApplyEachMessageOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let nodes = try (0..<2).map { _ in try startNode(databaseURL) }
        defer { for node in nodes { node.process.terminate(); node.process.waitUntilExit() } }

        // A key, created through the CLI as an operator would.
        let key = try ServeNode.createKey(binary: binary, databaseURL: databaseURL, name: "two-nodes", scopes: "ingest,read")

        // 8 senders, each sending the same 40 messages (ids shared) alternately to both nodes.
        let ports = nodes.map(\.port)
        let results = ConcurrentResults<Int>()
        DispatchQueue.concurrentPerform(iterations: 8) { sender in
            results.record {
                let clients = try ports.map { try TestHTTPClient(port: $0) }
                var ok = 0
                for i in 0..<40 {
                    let body = Array(try JSONSerialization.data(withJSONObject: [
                        "userId": "u-\(i % 4)", "event": "Product Viewed", "messageId": "shared-\(i)",
                        "properties": ["category": "skincare-sets"]]))
                    let r = try clients[(i + sender) % 2].request("POST", "/v1/events", headers: ["Authorization": "Bearer \(key)"], body: body)
                    if r.status == 200 { ok += 1 }
                }
                return ok
            }
        }
        XCTAssertEqual(try results.values().reduce(0, +), 8 * 40)
        let conn = try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM events").scalar(Int.self), 40)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM decisions").scalar(Int.self), 40)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM leads").scalar(Int.self), 4)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM schema_migrations").scalar(Int.self),
                       try MigrationFile.load(directory: repositoryRoot.appendingPathComponent("migrations")).count)
        // Each lead saw 10 views: 3 points each, capped at 30 (decayed by the milliseconds between them).
        XCTAssertEqual(try conn.query("SELECT count(*) FROM leads WHERE abs(score - 30) < 0.01").scalar(Int.self), 4)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM memberships WHERE segment = 'consideration.mid-intent.skincare-sets'").scalar(Int.self), 4)
    }

    private func startNode(_ databaseURL: String) throws -> (process: Process, port: Int) {
        try ServeNode.start(binary: binary, databaseURL: databaseURL)
    }
}
