import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// `POST /v1/rulesets/{v}/activate`: the node switches at once, new events are decided by the
/// activated version, a rollback brings the old decisions back, and the sweeper's background
/// re-evaluation moves exactly the leads a replay of the same history under the new version says.
final class RulesetActivationTests: XCTestCase {
    func activate(_ service: TestService, _ version: Int, _ client: TestHTTPClient) throws -> [String: Any] {
        let r = try client.json("POST", "/v1/rulesets/\(version)/activate", key: service.adminKey, [:])
        XCTAssertEqual(r.status, 200, r.text)
        return r.json
    }

    func testActivationSwitchesNewDecisionsAndRollbackRestoresThem() throws {
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let client = try service.client()
        let pushed = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b, "note": "carters"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        func send(_ user: String, _ event: String) throws -> [String: Any] {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": user, "event": event])
            XCTAssertEqual(r.status, 200, r.text)
            return r.json
        }
        func entered(_ decision: [String: Any]) -> [String] { (decision["segments"] as? [String: Any])?["entered"] as? [String] ?? [] }
        XCTAssertEqual(entered(try send("before", "Product Added")), [], "version 1 has no carter segment")

        let answer = try activate(service, 2, client)
        XCTAssertEqual(answer["version"] as? Int, 2)
        XCTAssertEqual(answer["active"] as? Bool, true)
        let activation = try XCTUnwrap(answer["activation"] as? [String: Any])
        XCTAssertEqual(activation["previous_version"] as? Int, 1)
        XCTAssertEqual(activation["activated_by"] as? String, "admin")
        var decision = try send("after", "Product Added")
        XCTAssertEqual(decision["ruleset_version"] as? Int, 2)
        XCTAssertEqual(entered(decision), ["awareness.high-intent.carter"])
        // Activating the active version again changes nothing.
        XCTAssertTrue(try activate(service, 2, client)["activation"] is NSNull)
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/7/activate", key: service.adminKey, [:]).status, 404)
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, ["force": true]).status, 422)

        // Rollback: version 1 decides again, exactly as before the activation.
        XCTAssertEqual((try activate(service, 1, client)["activation"] as? [String: Any])?["previous_version"] as? Int, 2)
        decision = try send("rolled-back", "Product Added")
        XCTAssertEqual(decision["ruleset_version"] as? Int, 1)
        XCTAssertEqual(entered(decision), [])
        decision = try send("rolled-back", "Product Viewed")
        XCTAssertEqual(entered(decision), [])
        decision = try send("rolled-back", "Product Viewed")
        XCTAssertEqual(entered(decision), ["awareness.low-intent.viewer"], "two views, version 1's threshold")
        let history = try client.json("GET", "/v1/rulesets", key: service.adminKey)
        XCTAssertEqual(history.json["active_version"] as? Int, 1)
        XCTAssertEqual((history.json["activations"] as? [[String: Any]])?.map { $0["version"] as? Int }, [1, 2, 1])
        XCTAssertNotNil((history.json["data"] as? [[String: Any]])?.first?["deactivated_at"] as? String)
    }

    /// The differential check: leads built under version 1, then version 2 activated and the
    /// sweeper's re-evaluation run to the end, hold exactly the memberships the same history
    /// gives when version 2 decides it from the start (a second database); the leads whose
    /// memberships moved got history rows with cause `ruleset_changed` and version 2.
    func testReevaluationMovesExactlyTheLeadsAReplayUnderTheNewVersionSays() throws {
        let live = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let replay = try TestService(test: self, rulesYAML: RulesetFixtures.b)
        try RulesetFixtures.sendHistory(live)
        try RulesetFixtures.sendHistory(replay)
        let underA = try RulesetFixtures.memberships(live)
        let expected = try RulesetFixtures.memberships(replay)
        let leads = (0..<RulesetFixtures.users).filter { !RulesetFixtures.events(user: $0).isEmpty }.count
        XCTAssertEqual(underA.count, leads, "users 0 and 15 sent nothing")
        XCTAssertNotEqual(underA, expected, "the fixture must move some leads")

        let client = try live.client()
        XCTAssertEqual(try client.json("POST", "/v1/rulesets", key: live.adminKey, ["yaml": RulesetFixtures.b, "note": "b"]).status, 201)
        let activation = try XCTUnwrap(try activate(live, 2, client)["activation"] as? [String: Any])
        XCTAssertEqual((activation["reevaluation"] as? [String: Any])?["status"] as? String, "running")
        XCTAssertEqual((activation["reevaluation"] as? [String: Any])?["leads_total"] as? Int, leads)
        var batches = 0
        while try !live.app.sweeper.reevaluationBatch(limit: 7).finished { batches += 1 }
        XCTAssertEqual(batches, leads / 7, "7 leads a batch, then a short (or empty) one")
        XCTAssertEqual(try RulesetFixtures.memberships(live), expected)

        let moved = Set(expected.keys.filter { underA[$0] != expected[$0] })
        try live.unpackStoredDocuments()
        let recorded = try live.connection().query("""
            SELECT DISTINCT l.user_id FROM membership_history h JOIN leads l ON l.id = h.lead_id
            WHERE h.reason->>'cause' = 'ruleset_changed' AND h.ruleset_version = 2
            """).map { try $0.decode(String.self, "user_id") }
        XCTAssertEqual(Set(recorded), moved)
        XCTAssertEqual(try live.count("SELECT count(*) FROM membership_history WHERE reason->>'cause' = 'ruleset_changed' AND event_id IS NOT NULL"), 0)
        let progress = try XCTUnwrap(((try client.json("GET", "/v1/rulesets", key: live.adminKey).json["activations"] as? [[String: Any]])?
            .first?["reevaluation"]) as? [String: Any])
        XCTAssertEqual(progress["status"] as? String, "done")
        XCTAssertEqual(progress["reevaluated"] as? Int, leads)
        XCTAssertEqual(progress["changed"] as? Int, moved.count)
        XCTAssertEqual(progress["progress"] as? Double, 1)
        XCTAssertEqual(try live.count("SELECT count(*) FROM leads WHERE ruleset_version <> 2"), 0)
    }
}
