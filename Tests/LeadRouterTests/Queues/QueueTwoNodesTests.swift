import Foundation
import Postgres
import XCTest

/// Two `leadrouter serve` processes sharing one queue: capacity holds across nodes, a long poll
/// on one node is woken by a lead routed through the other, and 8 claimers split over both
/// nodes get every item exactly once.
final class QueueTwoNodesTests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    private func run(_ arguments: [String], databaseURL: String) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.environment = ["DATABASE_URL": databaseURL]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, printed)
    }

    func testTwoServeProcessesShareTheQueue() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let nodes = try (0..<2).map { _ in try startNode(databaseURL) }
        defer { for node in nodes { node.process.terminate(); node.process.waitUntilExit() } }

        let created = try run(["keys", "create", "--name", "two-nodes", "--scopes", "ingest,queue"], databaseURL: databaseURL)
        XCTAssertEqual(created.status, 0, created.output)
        let key = try XCTUnwrap(created.output.split(separator: "\n").last.map(String.init))
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).csv")
        try "domain,owner_id\nacme-gym.com,ae_emil\nbad domain,x\n".write(to: csv, atomically: true, encoding: .utf8)
        let refused = try run(["accounts", "import", csv.path], databaseURL: databaseURL)
        XCTAssertEqual(refused.status, 65, refused.output)
        XCTAssertTrue(refused.output.contains("line 3: 'bad domain' is not a domain"), refused.output)
        try "domain,owner_id\nacme-gym.com,ae_emil\n".write(to: csv, atomically: true, encoding: .utf8)
        let imported = try run(["accounts", "import", csv.path], databaseURL: databaseURL)
        XCTAssertEqual(imported.status, 0, imported.output)
        XCTAssertTrue(imported.output.contains("imported 1 account(s)"), imported.output)

        // A long poll on node 0, woken by a lead routed through node 1.
        let polled = ConcurrentResults<TestResponse>()
        let pollDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            polled.record { try TestHTTPClient(port: nodes[0].port).json("POST", "/v1/queues/high-intent/claim", key: key, ["wait_seconds": 20]) }
            pollDone.signal()
        }
        usleep(500_000)
        let sender = try TestHTTPClient(port: nodes[1].port)
        let started = Date()
        let first = try sender.json("POST", "/v1/events", key: key, ["userId": "u-0", "event": "Pricing Requested",
                                                                      "context": ["traits": ["email": "kim@acme-gym.com"]]])
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(pollDone.wait(timeout: .now() + 15), .success)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "woken by the other node's NOTIFY, not the 20 s timeout")
        let polledItems = try XCTUnwrap(polled.values().first?.json["data"] as? [[String: Any]])
        XCTAssertEqual(polledItems.map { $0["owner_id"] as? String }, ["ae_emil"], "account match")
        XCTAssertEqual(polledItems.map { $0["assigned_by"] as? String }, ["account"])

        // 40 more leads routed through both nodes at once, none with a country: the round robin
        // over all three inside-sales members is exact however the nodes interleave (14/13/13).
        DispatchQueue.concurrentPerform(iterations: 4) { s in
            let client = try! TestHTTPClient(port: nodes[s % 2].port)
            for i in 0..<10 {
                let r = try! client.json("POST", "/v1/events", key: key, ["userId": "u-\(s)-\(i)", "event": "Pricing Requested"])
                XCTAssertEqual(r.status, 200, r.text)
            }
        }
        let conn = try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM queue_items WHERE owner_id = 'rep_anna'").scalar(Int.self), 14)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM queue_items WHERE owner_id = 'rep_ben'").scalar(Int.self), 13)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM queue_items WHERE owner_id = 'rep_carla'").scalar(Int.self), 13)

        // 8 claimers, 4 per node: the 40 open items are each claimed exactly once.
        let claimed = ConcurrentResults<[String]>()
        DispatchQueue.concurrentPerform(iterations: 8) { c in
            claimed.record {
                let client = try TestHTTPClient(port: nodes[c % 2].port)
                var mine: [String] = []
                while true {
                    let r = try client.json("POST", "/v1/queues/high-intent/claim", key: key, ["limit": 2])
                    guard r.status == 200, let data = r.json["data"] as? [[String: Any]] else { throw TestClientError(description: r.text) }
                    if data.isEmpty { return mine }
                    mine += data.compactMap { $0["id"] as? String }
                }
            }
        }
        let ids = try claimed.values().flatMap { $0 }
        XCTAssertEqual(ids.count, 40)
        XCTAssertEqual(Set(ids).count, 40)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM queue_items WHERE state = 'claimed' AND attempts = 1").scalar(Int.self), 41)
    }

    private func startNode(_ databaseURL: String) throws -> (process: Process, port: Int) {
        try ServeNode.start(binary: binary, databaseURL: databaseURL)
    }
}
