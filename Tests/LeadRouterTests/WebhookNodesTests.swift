import Foundation
import Postgres
import XCTest
@testable import Cryptography
@testable import LeadRouterService

/// Several nodes delivering from one database, and a node killed mid-delivery.
final class WebhookNodesTests: XCTestCase {
    static let secret = "whsec_nodes_tests_0123456789ab"

    func testTwoNodesShareTheWorkWithoutSendingAnythingTwice() throws {
        let receiver = try WebhookReceiver { _ in .slow(0.002) }
        defer { receiver.stop() }
        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings(workers: 3) }
        var options = service.app.options
        options.migrationsDirectory = nil
        let second = try LeadRouterApp(options: options, logger: TestDatabases.logger)
        try second.start()
        defer { second.stop() }
        _ = try service.subscribe(["url": receiver.url, "topics": ["lead.status_changed"], "secret": Self.secret])
        let leads = (0..<20).map { _ in UUID() }
        try service.writeOutbox(leads: leads, perLead: 15)

        try WebhookReceiver.eventually(timeout: 120, "every event delivered") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 300
        }
        let ids = receiver.requests.compactMap(\.eventId)
        XCTAssertEqual(ids.count, 300, "no event was sent twice")
        XCTAssertEqual(Set(ids).count, 300)
        let order = WebhookReceiver.perLeadOrder(receiver.requests)
        XCTAssertEqual(order.violations, [])
        for lead in leads { XCTAssertEqual(order.accepted[lead.uuidString.lowercased()], Array(0..<15)) }
    }

    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    /// Starts `leadrouter serve` with `config`; returns the process once it listens.
    private func serve(config: String, databaseURL: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--config", config, "--migrate",
                             "--rules", repositoryRoot.appendingPathComponent("config/segments.yaml").path,
                             "--migrations-dir", repositoryRoot.appendingPathComponent("migrations").path]
        process.environment = ["DATABASE_URL": databaseURL]
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        WebhookReceiver.eventually(timeout: 20, "serve to listen") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("port=")
        }
        return process
    }

    func testKilledMidDeliveryAndRestartedLosesNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let receiver = try WebhookReceiver { _ in .slow(0.02) }
        defer { receiver.stop() }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-wh-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("leadrouter.yaml").path
        try """
            server:
              port: 0
            logging:
              level: info
            webhooks:
              workers: 4
              poll_interval: 50ms
              connect_timeout: 500ms
              response_timeout: 1s
              allow_private_networks: true
              retry:
                backoff_base: 50ms
                backoff_cap: 200ms
              subscriptions:
                - name: crash-test
                  url: \(receiver.url)
                  topics: [lead.status_changed]
                  secret: "\(Self.secret)"
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let first = try serve(config: config, databaseURL: databaseURL, log: dir.appendingPathComponent("first.log").path)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let leads = (0..<8).map { _ in UUID() }
        try writeTestOutbox(databaseURL: databaseURL, leads: leads, perLead: 25)
        WebhookReceiver.eventually(timeout: 30, "deliveries under way") { receiver.accepted.count >= 40 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)

        let conn = try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
        let deliveredAtKill = Set(try conn.query("SELECT outbox_id FROM deliveries WHERE status = 'delivered'")
            .map { "evt_\(try $0.decode(Int64.self, "outbox_id"))" })
        XCTAssertLessThan(deliveredAtKill.count, 200, "killed mid-delivery")
        XCTAssertEqual(try conn.query("SELECT count(*) FROM outbox").scalar(Int.self), 200)

        let second = try serve(config: config, databaseURL: databaseURL, log: dir.appendingPathComponent("second.log").path)
        defer { if second.isRunning { kill(second.processIdentifier, SIGTERM); second.waitUntilExit() } }
        try WebhookReceiver.eventually(timeout: 90, "everything delivered after the restart") {
            try conn.query("SELECT count(*) FROM deliveries WHERE status = 'delivered'").scalar(Int.self) == 200
        }
        let outboxIds = Set(try conn.query("SELECT id FROM outbox").map { "evt_\(try $0.decode(Int64.self, "id"))" })
        XCTAssertEqual(Set(receiver.accepted.compactMap(\.eventId)), outboxIds, "nothing lost")
        // Sent twice may only be what was in flight at the kill: sent but its outcome not yet
        // committed. That is at most one delivery per lead (only a lead's oldest is leased), and
        // more than the 4 workers' sends, since a worker whose 2xx waits in the batch another
        // worker is writing takes its next delivery meanwhile (`DeliveredOutcomes`).
        let sent = Dictionary(receiver.accepted.compactMap(\.eventId).map { ($0, 1) }, uniquingKeysWith: +)
        let twice = sent.filter { $0.value > 1 }
        XCTAssertLessThanOrEqual(twice.count, leads.count, "at most one delivery per lead in flight at the kill: \(twice)")
        XCTAssertEqual(twice.filter { $0.value > 2 }, [:], "nothing sent three times")
        XCTAssertEqual(Set(twice.keys).intersection(deliveredAtKill), [], "a delivery recorded before the kill is never sent again")
        let order = WebhookReceiver.perLeadOrder(receiver.requests)
        XCTAssertEqual(order.violations, [])
        for lead in leads { XCTAssertEqual(order.accepted[lead.uuidString.lowercased()], Array(0..<25)) }
        let now = Int(Date().timeIntervalSince1970)
        for request in receiver.requests {
            XCTAssertNoThrow(try SignatureScheme.verify(header: request.signature, body: request.body, secret: Array(Self.secret.utf8),
                                                        now: now, toleranceSeconds: 300))
        }
    }
}
