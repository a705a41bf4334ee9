import Foundation
import Postgres
import XCTest
@testable import Essentials
@testable import HTTPAPI
@testable import LeadRouterService
@testable import LeadStore
@testable import OutboundHTTP
@testable import Webhooks

/// SSRF protection end to end, over real sockets and a real PostgreSQL: subscriptions to
/// non-public hosts are refused at creation (422) unless `webhooks.allow_private_networks` is on,
/// a name that resolves to loopback only at delivery (DNS rebinding) is never connected to, and
/// what a receiver says is stored sanitized.
final class WebhookSSRFTests: XCTestCase {
    static let secret = "whsec_ssrf_test_secret_0001"

    /// The four URLs of the security report, plus the spellings resolvers accept.
    static let privateURLs = [
        "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::1]:8080/", "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/", "http://0.0.0.0:8080/",
        "http://localhost:8080/", "https://192.168.1.1/", "http://100.64.0.1/", "http://[fd00::1]/", "http://[fe80::1]/",
    ]

    /// Deliveries' `last_error` of the service, oldest first.
    func lastErrors(_ service: TestService) throws -> [String] {
        let conn = try service.connection()
        return try conn.query("SELECT coalesce(last_error, '') AS e FROM deliveries ORDER BY id").map { try $0.decode(String.self, "e") }
    }

    func testPrivateDestinationsAreRefusedAtCreationWith422() throws {
        let service = try TestService(test: self)  // the default: allow_private_networks off
        let client = try service.client()
        for url in Self.privateURLs {
            let answer = try client.json("POST", "/v1/subscriptions", key: service.adminKey, ["url": url, "topics": ["lead.routed"]])
            XCTAssertEqual(answer.status, 422, "\(url): \(answer.text)")
            XCTAssertEqual(answer.header("Content-Type"), "application/problem+json")
            let errors = answer.json["errors"] as? [[String: Any]] ?? []
            XCTAssertEqual(errors.compactMap { $0["pointer"] as? String }, ["/url"], url)
            let detail = answer.json["detail"] as? String ?? ""
            XCTAssertTrue(detail.contains("public addresses") && detail.contains("allow_private_networks"), "\(url): \(detail)")
        }
        let metadata = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                       ["url": "http://169.254.169.254/latest/meta-data/", "topics": ["lead.routed"]])
        XCTAssertTrue((metadata.json["detail"] as? String ?? "").contains("link-local"), metadata.text)
        let loopback = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                       ["url": "http://[::ffff:127.0.0.1]/", "topics": ["lead.routed"]])
        XCTAssertTrue((loopback.json["detail"] as? String ?? "").contains("loopback"), loopback.text)

        // Control characters and spaces anywhere, and user info, are refused too.
        for url in ["http://crm.example.com/hook\r\nX-Injected: 1", "http://crm.example.com/a b", "http://crm.example.com/\t",
                    "http://crm.exa\u{0}mple.com/", "http://user:pw@crm.example.com/", "http://crm.example.com@10.0.0.1/"] {
            let answer = try client.json("POST", "/v1/subscriptions", key: service.adminKey, ["url": url, "topics": ["lead.routed"]])
            XCTAssertEqual(answer.status, 422, "\(url.debugDescription): \(answer.text)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM subscriptions"), 0)

        let publicHost = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                     ["url": "https://93.184.216.34/hooks", "topics": ["lead.routed"]])
        XCTAssertEqual(publicHost.status, 201, publicHost.text)
    }

    func testAllowPrivateNetworksAcceptsThemAndDeliversToALoopbackReceiver() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings() }  // allow_private_networks: true
        let client = try service.client()
        for url in Self.privateURLs {
            let answer = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                         ["url": url, "topics": ["lead.merged"], "active": false])
            XCTAssertEqual(answer.status, 201, "\(url): \(answer.text)")
        }
        _ = try service.subscribe(["url": receiver.url, "topics": ["lead.status_changed"], "secret": Self.secret])
        try service.writeOutbox(leads: [UUID()], perLead: 3)
        try WebhookReceiver.eventually(timeout: 30, "three deliveries") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'delivered'") == 3
        }
        XCTAssertEqual(receiver.accepted.count, 3)
    }

    func testANameThatRebindsToLoopbackAtDeliveryIsNeverConnectedTo() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let closed = try RawServer.freePort()
        // Public while the subscription is created, loopback ever after (a DNS rebinding attack).
        let lookups = Locked(0)
        let rebinding = HostResolver(name: "rebinding") { host in
            guard host.hasSuffix(".rebind.test") else { throw OutboundHTTPError(.resolve, "unknown test name \(host)") }
            let n = lookups.withLock { n -> Int in n += 1; return n }
            return [IPAddress.parseLiteral(n <= 2 ? "93.184.216.34" : "127.0.0.1")!]
        }
        let service = try TestService(test: self) {
            $0.webhooks = testWebhookSettings(maxAttempts: 2)
            $0.webhooks.allowPrivateNetworks = false
            $0.webhooks.resolver = rebinding
        }
        // One subscription whose port has a listener, one whose port has none: a port scanner
        // would tell them apart by refused vs timeout; here both read the same.
        let open = try service.subscribe(["url": "http://hooks.rebind.test:\(receiver.port)/hook", "topics": ["lead.status_changed"],
                                          "secret": Self.secret, "max_attempts": 2])
        _ = try service.subscribe(["url": "http://scan.rebind.test:\(closed)/", "topics": ["lead.status_changed"],
                                   "secret": Self.secret, "max_attempts": 2])
        XCTAssertEqual(lookups.withLock { $0 }, 2, "each creation resolved the name once")
        try service.writeOutbox(leads: [UUID()], perLead: 1)
        try WebhookReceiver.eventually(timeout: 30, "both deliveries dead") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'dead'") == 2
        }
        XCTAssertEqual(receiver.requests.count, 0, "nothing reached the loopback receiver")
        let errors = try lastErrors(service)
        XCTAssertEqual(errors, Array(repeating: "blocked_address: " + OutboundHTTPError.blockedDetail, count: 2))
        let listed = try service.client().json("GET", "/v1/deliveries?status=dead&subscription=\(open["id"] as! String)",
                                               key: service.adminKey).json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.first?["last_error"] as? String, "blocked_address: " + OutboundHTTPError.blockedDetail)
        XCTAssertGreaterThanOrEqual(lookups.withLock { $0 }, 4, "every attempt resolved again")

        // The client on its own: a literal loopback address is refused before any socket opens.
        let raw = try RawServer(answer: "HTTP/1.1 204 No Content\r\n\r\n")
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 1))
        XCTAssertThrowsError(try client.post("http://127.0.0.1:\(raw.port)/", headers: [], body: [])) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .blockedAddress)
        }
        XCTAssertThrowsError(try client.post("http://localhost:\(raw.port)/", headers: [], body: [])) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .blockedAddress)
        }
        XCTAssertEqual(raw.connections, 0)
    }

    func testTheReceiversLocationAndErrorTextAreStoredSanitizedAndCapped() throws {
        let hostile = "http://x.example/\u{1b}[2J\u{7}\u{85}\u{202e}" + String(repeating: "a", count: 3000)
        let redirect = try RawServer(answer: "HTTP/1.1 302 Found\r\nLocation: \(hostile)\r\nContent-Length: 0\r\n\r\n")
        let garbage = try RawServer(answer: "\u{1b}]0;owned\u{7}NOT HTTP\r\n\r\n")
        let service = try TestService(test: self) { $0.webhooks = testWebhookSettings(maxAttempts: 1) }
        _ = try service.subscribe(["url": "http://127.0.0.1:\(redirect.port)/", "topics": ["lead.status_changed"], "secret": Self.secret])
        _ = try service.subscribe(["url": "http://127.0.0.1:\(garbage.port)/", "topics": ["lead.status_changed"], "secret": Self.secret])
        try service.writeOutbox(leads: [UUID()], perLead: 1)
        try WebhookReceiver.eventually(timeout: 30, "both deliveries dead") {
            try service.count("SELECT count(*) FROM deliveries WHERE status = 'dead'") == 2
        }
        let errors = try lastErrors(service)
        XCTAssertEqual(errors.count, 2)
        for error in errors {
            XCTAssertFalse(error.unicodeScalars.contains { [.control, .format].contains($0.properties.generalCategory) },
                           error.debugDescription)
            XCTAssertLessThanOrEqual(error.count, 300, error)
        }
        XCTAssertTrue(errors.contains { $0.hasPrefix("HTTP 302 (redirect to http://x.example/[2Jaaa") && $0.contains("…") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.hasPrefix("malformed_response: ") && $0.contains("]0;ownedNOT HTTP") }, "\(errors)")
        withExtendedLifetime((redirect, garbage)) {}
    }

    func testConfiguredSubscriptionsToPrivateHostsStopTheStart() throws {
        let service = try TestService(test: self)
        var options = service.app.options
        options.server.port = 0
        options.webhooks.subscriptions = [NewSubscription(url: "http://10.0.0.1/hooks", topics: ["lead.routed"], segments: nil,
                                                          secret: "x-secret-0123456789ab", maxAttempts: 5, configName: "internal")]
        XCTAssertThrowsError(try LeadRouterApp(options: options, logger: TestDatabases.logger)) { error in
            XCTAssertTrue("\(error)".contains("webhooks.subscriptions internal: url: host 10.0.0.1 is a private address"), "\(error)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM subscriptions"), 0)
        options.webhooks.allowPrivateNetworks = true
        let allowed = try LeadRouterApp(options: options, logger: TestDatabases.logger)
        allowed.stop()
        XCTAssertEqual(try service.count("SELECT count(*) FROM subscriptions"), 1)
    }

    func testAllowPrivateNetworksIsOffByDefaultAndSetByFileOrEnvironment() throws {
        XCTAssertFalse(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [:]).webhooks.allowPrivateNetworks)
        XCTAssertTrue(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"])
            .webhooks.allowPrivateNetworks)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lr-ssrf-\(UUID().uuidString).yaml").path
        try "webhooks:\n  allow_private_networks: true\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertTrue(try ServiceConfiguration.resolve(file: path, flags: [:], environment: [:]).webhooks.allowPrivateNetworks)
        XCTAssertFalse(try ServiceConfiguration.resolve(file: path, flags: [:], environment: ["LEADROUTER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "false"])
            .webhooks.allowPrivateNetworks, "the environment overrides the file")
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "yes"]))
        // A configured subscription with a control character is refused when the file is read.
        try "webhooks:\n  subscriptions:\n    - name: a\n      url: \"http://x.example/a\\tb\"\n      topics: [lead.routed]\n      secret: abcdefghijklmnopq\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: path, flags: [:], environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("control characters"), "\(error)")
        }
    }
}
