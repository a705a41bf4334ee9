import Foundation
import XCTest

/// Ingest writes an outbox row only for a topic some subscription (active or paused, not
/// deleted) lists: nothing is stored for webhooks nobody receives, and a subscription starts
/// from its creation.
final class OutboxSubscribedTopicsTests: XCTestCase {
    func testOutboxRowsAreWrittenOnlyForSubscribedTopicsFromTheSubscriptionsCreationOn() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        func pricing(_ user: String) throws {
            let answer = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": user, "event": "Pricing Requested"])
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertEqual((answer.json["segments"] as? [String: Any])?["entered"] as? [String], ["decision.high-intent.pricing"], answer.text)
        }
        try pricing("before")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox"), 0, "no subscription: no outbox row")
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 1, "the decision itself is stored as always")

        let conn = try service.connection()
        try conn.execute("INSERT INTO subscriptions (url, topics, secret, active) VALUES ('https://crm.example.com/h', '{lead.status_changed}', 'x', false)")
        try pricing("after")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox"), 1, "only the subscribed topic, only from now on")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'lead.status_changed'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox_pending"), 1, "waiting for the dispatcher as before")

        try conn.execute("UPDATE subscriptions SET deleted_at = now()")
        try pricing("deleted")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox"), 1, "a deleted subscription subscribes to nothing")
    }
}
