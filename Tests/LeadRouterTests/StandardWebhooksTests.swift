import Cryptography
import Essentials
import Foundation
import XCTest
@testable import OutboundHTTP
@testable import Webhooks

/// Standard Webhooks signatures: known answers (the specification's own vector and values
/// computed with the `standardwebhooks` PyPI library), the secret → key rule, and the Python
/// receiver of docs/webhooks.md — built on that library — run against real deliveries signed
/// with a generated, an old hex and a non-base64 secret.
final class StandardWebhooksTests: XCTestCase {
    func testSignaturesMatchTheSpecificationAndTheLibrary() {
        // The vector of the standard's reference libraries' test suites.
        XCTAssertEqual(StandardWebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                                     body: Array(#"{"test": 2432232314}"#.utf8),
                                                     key: StandardWebhookSignature.key(forSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // An old generated secret (hex digits are base64 digits): what Webhook("whsec_abab…") signs.
        XCTAssertEqual(StandardWebhookSignature.sign(id: "evt_1", timestamp: 1_795_000_100, body: Array("{}".utf8),
                                                     key: StandardWebhookSignature.key(forSecret: "whsec_" + String(repeating: "ab", count: 32))),
                       "v1,U1hOFgiIsHU0WzV6Xn/qc6nbui3EqwU/PXqaXYVyuGA=")
        // A non-base64 secret: its UTF-8 bytes, what Webhook(b"whsec_my_shop_secret_0001") signs.
        XCTAssertEqual(StandardWebhookSignature.sign(id: "evt_1", timestamp: 1_795_000_100, body: Array("{}".utf8),
                                                     key: StandardWebhookSignature.key(forSecret: "whsec_my_shop_secret_0001")),
                       "v1,d2PUUP9c6PeuvlFTZBGXY00PoIDPuM1hoKeyicxjoGI=")
    }

    func testSecretToKeyRule() {
        XCTAssertEqual(StandardWebhookSignature.key(forSecret: "whsec_AAEC"), [0, 1, 2])
        XCTAssertEqual(StandardWebhookSignature.key(forSecret: "AAEC"), [0, 1, 2], "the prefix is optional, as in the libraries")
        XCTAssertEqual(StandardWebhookSignature.key(forSecret: "whsec_AAE="), [0, 1])
        for raw in ["whsec_AAE", "whsec_AA-C", "whsec_AA_C", "whsec_AA EC", "whsec_", "whsec_====", "whsec_A===", "whsec_AAEC="] {
            XCTAssertEqual(StandardWebhookSignature.key(forSecret: raw), Array(raw.utf8), raw)
        }
        let generated = SubscriptionValidation.generateSecret()
        XCTAssertTrue(generated.hasPrefix("whsec_"))
        XCTAssertEqual(generated.utf8.count, 6 + 44)
        XCTAssertEqual(StandardWebhookSignature.key(forSecret: generated).count, 32)
        XCTAssertNotEqual(generated, SubscriptionValidation.generateSecret())
    }

    func testEveryDeliveryCarriesBothSignatures() throws {
        let event = WebhookEvent(outboxId: 7, topic: "lead.routed", createdAt: Date(timeIntervalSince1970: 1_795_000_000), payload: Array("{}".utf8))
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let headers = Dictionary(uniqueKeysWithValues: event.headers(secret: secret, timestamp: 1_795_000_100, attempt: 2))
        XCTAssertEqual(headers["webhook-id"], "evt_7")
        XCTAssertEqual(headers["webhook-timestamp"], "1795000100")
        XCTAssertEqual(headers["webhook-signature"], StandardWebhookSignature.sign(id: "evt_7", timestamp: 1_795_000_100, body: event.body,
                                                                                   key: StandardWebhookSignature.key(forSecret: secret)))
        XCTAssertNoThrow(try SignatureScheme.verify(header: headers["X-Leadrouter-Signature"], body: event.body, secret: Array(secret.utf8),
                                                    now: 1_795_000_100, toleranceSeconds: 300))
    }

    func testTheStandardWebhooksReceiverInTheDocsVerifiesRealDeliveries() throws {
        try requirePythonModule("standardwebhooks", package: "standardwebhooks")
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/webhooks.md"), encoding: .utf8)
        guard let begin = docs.range(of: "<!-- standard-webhooks-python:begin -->\n```python\n"),
              let end = docs.range(of: "```\n<!-- standard-webhooks-python:end -->") else {
            return XCTFail("no standard-webhooks-python block in docs/webhooks.md")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-stdwh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("receiver.py").path
        try String(docs[begin.upperBound..<end.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)

        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings() }
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 5), destinations: DestinationPolicy(allowPrivateNetworks: true))
        // Three receivers, one per kind of secret; each subscription is created first so the
        // generated secret can be handed to its receiver.
        let receivers = try [nil, "whsec_" + Hex.encode(Crypto.randomBytes(32)), "whsec_my_shop_secret_0001"].enumerated().map { index, chosen in
            let port = try RawServer.freePort()
            let url = "http://127.0.0.1:\(port)/hooks"
            var body: [String: Any] = ["url": url, "topics": ["lead.status_changed"]]
            if let chosen { body["secret"] = chosen }
            let secret = try XCTUnwrap(service.subscribe(body)["secret"] as? String)
            if chosen == nil { XCTAssertEqual(StandardWebhookSignature.key(forSecret: secret).count, 32, "generated in the standard's format") }
            let output = dir.appendingPathComponent("out-\(index).txt")
            return (url: url, secret: secret, output: output,
                    process: try startPython(path, environment: ["WEBHOOK_SECRET": secret, "PORT": String(port)], output: output))
        }
        defer { for receiver in receivers { receiver.process.terminate(); receiver.process.waitUntilExit() } }
        for receiver in receivers {
            WebhookReceiver.eventually(timeout: 20, "the python receiver to listen") { (try? client.post(receiver.url, headers: [], body: [])) != nil }
            // Refusals first: unsigned, another secret, a tampered body, a stale timestamp.
            let event = WebhookEvent(outboxId: 999_999, topic: "lead.routed", createdAt: Date(), payload: Array(#"{"lead_id":"x"}"#.utf8))
            let now = Int(Date().timeIntervalSince1970)
            XCTAssertEqual(try client.post(receiver.url, headers: [], body: event.body).status, 400)
            XCTAssertEqual(try client.post(receiver.url, headers: event.headers(secret: "whsec_AAECAwQFBgcICQoLDA0ODw==", timestamp: now, attempt: 1),
                                           body: event.body).status, 400)
            XCTAssertEqual(try client.post(receiver.url, headers: event.headers(secret: receiver.secret, timestamp: now, attempt: 1),
                                           body: event.body + [32]).status, 400)
            XCTAssertEqual(try client.post(receiver.url, headers: event.headers(secret: receiver.secret, timestamp: now - 3600, attempt: 1),
                                           body: event.body).status, 400)
            XCTAssertEqual(try client.post(receiver.url, headers: event.headers(secret: receiver.secret, timestamp: now, attempt: 1),
                                           body: event.body).status, 204)
        }
        try service.writeOutbox(leads: [UUID(), UUID()], perLead: 2)
        try WebhookReceiver.eventually(timeout: 30, "deliveries accepted by the three receivers") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 12
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM deliveries WHERE attempts <> 1"), 0, "each verified on the first attempt")
        let ids = try service.connection().query("SELECT id FROM outbox ORDER BY id").map { "evt_\(try $0.decode(Int64.self, "id"))" }
        for receiver in receivers {
            let printed = try String(contentsOf: receiver.output, encoding: .utf8)
            for id in ids { XCTAssertTrue(printed.contains("verified \(id) lead.status_changed"), "\(receiver.secret): \(id) not in: \(printed)") }
        }
    }

    private func startPython(_ script: String, environment: [String: String], output: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", script]
        python.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]) { a, _ in a }
        python.standardOutput = handle
        python.standardError = handle
        try python.run()
        return python
    }
}
