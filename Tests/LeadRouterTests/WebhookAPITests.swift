import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import LeadStore

/// `/v1/subscriptions` and `/v1/deliveries` as an operator uses them, and subscriptions from
/// the configuration file.
final class WebhookAPITests: XCTestCase {
    func testSubscriptionsNeedAdminAreValidatedAndShowTheSecretOnce() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let valid: [String: Any] = ["url": "https://crm.example.com/hooks", "topics": ["lead.routed", "segment.entered"],
                                    "segments": ["decision.high-intent.cart"], "description": "CRM"]
        XCTAssertEqual(try client.json("POST", "/v1/subscriptions", key: nil, valid).status, 401)
        XCTAssertEqual(try client.json("POST", "/v1/subscriptions", key: service.readKey, valid).status, 403)
        XCTAssertEqual(try client.json("GET", "/v1/subscriptions", key: service.ingestKey).status, 403)
        XCTAssertEqual(try client.json("GET", "/v1/deliveries", key: service.readKey).status, 403)

        let invalid = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                      ["url": "mailto:x", "topics": ["lead.routed", "lead.teleported"], "segments": ["no.such.segment"]])
        XCTAssertEqual(invalid.status, 422, invalid.text)
        XCTAssertEqual(invalid.header("Content-Type"), "application/problem+json")
        let pointers = (invalid.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
        XCTAssertEqual(Set(pointers), ["/url", "/topics/1", "/segments/0"])
        let notJSON = try client.request("POST", "/v1/subscriptions", headers: ["Authorization": "Bearer \(service.adminKey)"], body: Array("[1".utf8))
        XCTAssertEqual(notJSON.status, 400)
        XCTAssertEqual(try service.count("SELECT count(*) FROM subscriptions"), 0)

        let created = try client.json("POST", "/v1/subscriptions", key: service.adminKey, valid)
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap(created.json["id"] as? String)
        let secret = try XCTUnwrap(created.json["secret"] as? String)
        XCTAssertTrue(secret.hasPrefix("whsec_"))
        XCTAssertEqual(created.json["topics"] as? [String], ["lead.routed", "segment.entered"])
        XCTAssertEqual(created.json["segments"] as? [String], ["decision.high-intent.cart"])
        XCTAssertEqual(created.json["max_attempts"] as? Int, 12)
        XCTAssertEqual(created.json["source"] as? String, "api")

        let listed = try client.json("GET", "/v1/subscriptions", key: service.adminKey)
        let data = try XCTUnwrap(listed.json["data"] as? [[String: Any]])
        XCTAssertEqual(data.map { $0["id"] as? String }, [id])
        XCTAssertNil(data[0]["secret"], "the secret is shown once, at creation")
        XCTAssertEqual(try client.json("GET", "/v1/subscriptions/\(id)", key: service.adminKey).json["description"] as? String, "CRM")

        let given = try client.json("POST", "/v1/subscriptions", key: service.adminKey,
                                    ["url": "http://hooks.example.net:9/x", "topics": ["lead.merged"], "secret": "my-own-secret-1234567", "active": false])
        XCTAssertEqual(given.json["secret"] as? String, "my-own-secret-1234567")
        XCTAssertEqual(given.json["active"] as? Bool, false)

        XCTAssertEqual(try client.json("DELETE", "/v1/subscriptions/\(id)", key: service.adminKey).status, 204)
        XCTAssertEqual(try client.json("GET", "/v1/subscriptions/\(id)", key: service.adminKey).status, 404)
        XCTAssertEqual(try client.json("DELETE", "/v1/subscriptions/\(id)", key: service.adminKey).status, 404)
        XCTAssertEqual((try client.json("GET", "/v1/subscriptions", key: service.adminKey).json["data"] as? [Any])?.count, 1)

        let badFilter = try client.json("GET", "/v1/deliveries?status=lost", key: service.adminKey)
        XCTAssertEqual(badFilter.status, 400)
        XCTAssertEqual(try client.json("GET", "/v1/deliveries?subscription=nope", key: service.adminKey).status, 400)
        XCTAssertEqual((try client.json("GET", "/v1/deliveries?status=dead", key: service.adminKey).json["data"] as? [Any])?.count, 0)
    }

    func testConfiguredSubscriptionsAreUpsertedByNameAndCannotBeDeletedThroughTheAPI() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lr-wh-\(UUID().uuidString).yaml").path
        try """
            webhooks:
              workers: 2
              allow_private_networks: true
              retry:
                max_attempts: 5
                max_age: 2d
              subscriptions:
                - name: crm
                  url: https://crm.example.com/hooks
                  topics: [lead.routed, lead.status_changed]
                  secret: "crm-secret-0123456789"
                - name: ads
                  url: http://127.0.0.1:9/ads
                  topics: [segment.entered]
                  segments: [decision.high-intent.cart]
                  secret: "ads-secret-0123456789"
                  active: false
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try ServiceConfiguration.resolve(file: path, flags: [:], environment: ["LEADROUTER_WEBHOOKS_WORKERS": "3"])
        XCTAssertEqual(configuration.webhooks.workers, 3)
        XCTAssertEqual(configuration.webhooks.maxAge, 2 * 86_400)
        let configured = try XCTUnwrap(configuration.webhooks.subscriptions)
        XCTAssertEqual(configured.map(\.configName), ["crm", "ads"])
        XCTAssertEqual(configured.map(\.maxAttempts), [5, 5])
        XCTAssertEqual(configured[1].segments, ["decision.high-intent.cart"])
        XCTAssertEqual(configured[1].active, false)

        let service = try TestService(test: self) { $0.webhooks = configuration.webhooks; $0.webhooks.enabled = false }
        let client = try service.client()
        let listed = try client.json("GET", "/v1/subscriptions", key: service.adminKey).json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.compactMap { $0["name"] as? String }, ["ads", "crm"], "oldest first, then by name")
        XCTAssertEqual(listed.compactMap { $0["source"] as? String }, ["config", "config"])
        let crmId = try XCTUnwrap(listed.last?["id"] as? String)
        let refused = try client.json("DELETE", "/v1/subscriptions/\(crmId)", key: service.adminKey)
        XCTAssertEqual(refused.status, 409, refused.text)

        // Another start with a changed file: crm updated in place, ads removed, new one added.
        var next = configuration.webhooks
        next.subscriptions = [NewSubscription(url: "https://crm.example.com/v2", topics: ["lead.routed"], segments: nil,
                                              secret: "crm-secret-0123456789", maxAttempts: 5, configName: "crm"),
                              NewSubscription(url: "https://mail.example.com/h", topics: ["lead.merged"], segments: nil,
                                              secret: "mail-secret-0123456789", maxAttempts: 5, configName: "mail")]
        next.enabled = false
        var options = service.app.options
        options.webhooks = next
        options.server.port = 0
        let second = try LeadRouterApp(options: options, logger: TestDatabases.logger)
        second.stop()
        let after = try client.json("GET", "/v1/subscriptions", key: service.adminKey).json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(after.compactMap { $0["name"] as? String }, ["crm", "mail"])
        XCTAssertEqual(after.first?["id"] as? String, crmId, "same subscription, same id")
        XCTAssertEqual(after.first?["url"] as? String, "https://crm.example.com/v2")

        // A configured segment filter must name a segment of the ruleset.
        next.subscriptions = [NewSubscription(url: "https://x.example.com/", topics: ["segment.entered"], segments: ["no.such"],
                                              secret: "x-secret-0123456789ab", maxAttempts: 5, configName: "x")]
        options.webhooks = next
        XCTAssertThrowsError(try LeadRouterApp(options: options, logger: TestDatabases.logger)) { error in
            XCTAssertTrue("\(error)".contains("no.such"), "\(error)")
        }
    }

    func testConfiguredSubscriptionErrorsNameTheirPlace() throws {
        func resolve(_ yaml: String) -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("lr-wh-\(UUID().uuidString).yaml").path
            try? yaml.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do { _ = try ServiceConfiguration.resolve(file: path, flags: [:], environment: [:]); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(resolve("webhooks:\n  subscriptions:\n    - url: http://x/\n      topics: [lead.routed]\n      secret: abcdefghijklmnopq\n")
            .contains("name is required"))
        XCTAssertTrue(resolve("webhooks:\n  subscriptions:\n    - name: a\n      url: http://x/\n      topics: [lead.routed]\n")
            .contains("webhooks.subscriptions[0].secret"))
        XCTAssertTrue(resolve("webhooks:\n  subscriptions:\n    - name: a\n      url: http://x/\n      topics: [nope]\n      secret: abcdefghijklmnopq\n")
            .contains("webhooks.subscriptions[0].topics.0"))
        XCTAssertTrue(resolve("webhooks:\n  retry:\n    max_age: 90d\n").contains("webhooks.retry.max_age"))
        XCTAssertTrue(resolve("webhooks:\n  enabled: maybe\n").contains("true or false"))
    }
}
