import Foundation
import XCTest
@testable import OutboundHTTP
@testable import Webhooks

/// The Python receiver printed in docs/webhooks.md, run as it is against real deliveries: it
/// answers 204 only when the signature verifies, so every delivery reaching `delivered` proves
/// the documented check accepts what leadrouter sends — and it must refuse tampered requests.
final class WebhookSignatureDocsTests: XCTestCase {
    func testThePythonReceiverInTheDocsVerifiesRealDeliveries() throws {
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/webhooks.md"), encoding: .utf8)
        guard let begin = docs.range(of: "<!-- python-receiver:begin -->\n```python\n"),
              let end = docs.range(of: "```\n<!-- python-receiver:end -->") else { return XCTFail("no python receiver block in docs/webhooks.md") }
        let script = String(docs[begin.upperBound..<end.lowerBound])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-wh-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("receiver.py").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("out.txt").path
        _ = FileManager.default.createFile(atPath: output, contents: nil)

        let secret = "whsec_python_docs_test_0123456789"
        let port = try RawServer.freePort()
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", path]
        python.environment = ["WEBHOOK_SECRET": secret, "PORT": String(port), "PATH": "/usr/local/bin:/usr/bin:/bin"]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        python.standardOutput = handle
        python.standardError = handle
        try python.run()
        defer { python.terminate(); python.waitUntilExit() }

        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 5), destinations: DestinationPolicy(allowPrivateNetworks: true))
        let url = "http://127.0.0.1:\(port)/hooks"
        WebhookReceiver.eventually(timeout: 20, "the python receiver to listen") {
            (try? client.post(url, headers: [], body: [])) != nil
        }
        // Refusals: no signature, a wrong secret, a tampered body, a stale timestamp.
        let event = WebhookEvent(outboxId: 999_999, topic: "lead.routed", createdAt: Date(), payload: Array(#"{"lead_id":"x"}"#.utf8))
        let now = Int(Date().timeIntervalSince1970)
        XCTAssertEqual(try client.post(url, headers: [], body: event.body).status, 400)
        XCTAssertEqual(try client.post(url, headers: event.headers(secret: "whsec_wrong_secret_000000", timestamp: now, attempt: 1),
                                       body: event.body).status, 400)
        XCTAssertEqual(try client.post(url, headers: event.headers(secret: secret, timestamp: now, attempt: 1), body: event.body + [32]).status, 400)
        XCTAssertEqual(try client.post(url, headers: event.headers(secret: secret, timestamp: now - 3600, attempt: 1), body: event.body).status, 400)
        XCTAssertEqual(try client.post(url, headers: event.headers(secret: secret, timestamp: now, attempt: 1), body: event.body).status, 204)
        XCTAssertEqual(try client.post(url, headers: event.headers(secret: secret, timestamp: now, attempt: 2), body: event.body).status, 204,
                       "a duplicate is acknowledged")

        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings() }
        _ = try service.subscribe(["url": url, "topics": ["lead.status_changed"], "secret": secret])
        try service.writeOutbox(leads: [UUID(), UUID()], perLead: 3)
        try WebhookReceiver.eventually(timeout: 30, "deliveries accepted by the python receiver") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 6
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries WHERE attempts <> 1"), 0, "each verified on the first attempt")
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        let ids = try service.connection().query("SELECT id FROM outbox ORDER BY id").map { "evt_\(try $0.decode(Int64.self, "id"))" }
        XCTAssertEqual(printed.components(separatedBy: "verified evt_999999 ").count, 2, "and handled once: \(printed)")
        for id in ids { XCTAssertTrue(printed.contains("verified \(id) lead.status_changed"), "\(id) not in: \(printed)") }
    }
}
