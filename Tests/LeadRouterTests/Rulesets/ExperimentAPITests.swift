import Foundation
import XCTest
@testable import LeadRouterService
@testable import Rulesets
import Segmentation

/// Experiments end to end over HTTP: each lead's arm is the one its id hashes to, a held-out lead
/// gets no email (reason `holdout`), the arm is in the answer, the stored decision and the
/// `lead.routed` webhook alike, it survives a new ruleset version, and `/v1/experiments/{name}`
/// counts exactly the scripted history.
final class ExperimentAPITests: XCTestCase {
    static func yaml(version: Int, variants: String) -> String {
        """
        version: \(version)
        events: { types: [asked, bought] }
        segments:
          - name: decision.high-intent.pricing
            priority: 10
            goal: { when: 'count(bought, 30d) >= 1', within: 14d }
            enter: 'count(asked, 30d) >= 1'
            route:
              email: {experiment: pricing-copy, variants: \(variants), holdout: 20%}
        """
    }

    static let v1 = yaml(version: 1, variants: "{a: {sequence: pricing-a, weight: 50}, b: {sequence: pricing-b, weight: 50}}")
    /// Other copy, the variants written the other way round: the same leads must keep their arms.
    static let v2 = yaml(version: 2, variants: "{b: {sequence: pricing-b2, weight: 50}, a: {sequence: pricing-a2, weight: 50}}")

    /// The arm a decision document shows, and checks that it is shown consistently.
    func arm(_ d: [String: Any], file: StaticString = #filePath, line: UInt = #line) -> String? {
        let email = (d["actions"] as? [[String: Any]] ?? []).first { $0["channel"] as? String == "email" }
        let held = (d["suppressed"] as? [[String: Any]] ?? []).first { $0["reason"] as? String == "holdout" }
        if let held {
            XCTAssertNil(email, "a held-out lead gets no email", file: file, line: line)
            XCTAssertEqual(held["experiment"] as? String, "pricing-copy", file: file, line: line)
            XCTAssertEqual(held["channel"] as? String, "email", file: file, line: line)
            return "holdout"
        }
        guard let email else { return nil }
        XCTAssertEqual(email["experiment"] as? String, "pricing-copy", file: file, line: line)
        return email["variant"] as? String
    }

    func testAssignmentHoldoutWebhooksAndReportOverHTTP() throws {
        let service = try TestService(test: self, rulesYAML: Self.v1)
        try service.subscribeToEveryTopic()
        let client = try service.client()
        let users = 80
        var arms: [String: String] = [:]       // lead id → arm
        var leadOf: [Int: String] = [:]
        for k in 0..<users {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u\(k)", "event": "asked"])
            XCTAssertEqual(r.status, 200, r.text)
            let lead = try XCTUnwrap(r.json["lead_id"] as? String)
            let got = try XCTUnwrap(arm(r.json), r.text)
            // The arm is the one the lead id hashes to, computed here without the service.
            XCTAssertEqual(got, ExperimentAssignment.arm(leadId: lead, experiment: "pricing-copy", holdout: 20, weights: [("a", 50), ("b", 50)]))
            let email = (r.json["actions"] as? [[String: Any]] ?? []).first { $0["channel"] as? String == "email" }
            if got != "holdout" { XCTAssertEqual(email?["sequence"] as? String, "pricing-\(got)") }
            arms[lead] = got
            leadOf[k] = lead
        }
        XCTAssertEqual(Set(arms.values), ["a", "b", "holdout"], "80 leads reach every arm")

        // The stored decision and the lead.routed webhook carry the same arm.
        for (lead, expected) in arms.prefix(10) {
            let decisions = try client.json("GET", "/v1/leads/\(lead)/decisions?limit=1", key: service.readKey)
            XCTAssertEqual(arm(try XCTUnwrap((decisions.json["data"] as? [[String: Any]])?.first, decisions.text)), expected)
            let conn = try service.connection()
            let payload = try conn.query("SELECT payload::text AS p FROM outbox WHERE topic = 'lead.routed' AND lead_id = \(UUID(uuidString: lead)!)")
                .map { try $0.decode(String.self, "p") }
            XCTAssertEqual(payload.count, 1)
            let routed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(payload[0].utf8)) as? [String: Any])
            XCTAssertEqual(arm(routed), expected, "lead.routed data shows the arm as the decision does")
        }

        // A new version with other copy and the variants in the other order: every lead keeps its arm.
        XCTAssertEqual(try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": Self.v2, "note": "new copy"]).status, 201)
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, ["confirm": true]).status, 200)
        service.clock.advance(3_600)
        for k in 0..<users {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u\(k)", "event": "asked"])
            XCTAssertEqual(r.json["ruleset_version"] as? Int, 2)
            let got = arm(r.json)
            XCTAssertEqual(got, arms[leadOf[k]!], "user \(k)")
            if let got, got != "holdout" {
                XCTAssertEqual((r.json["actions"] as? [[String: Any]])?.first?["sequence"] as? String, "pricing-\(got)2")
            }
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM experiment_assignments"), users, "one row per lead, written once")

        // Scripted conversions: every third user buys (the segment's goal); user 1 buys twice.
        service.clock.advance(3_600)
        var converted: Set<String> = []
        for k in stride(from: 0, to: users, by: 3) + [1, 1] {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u\(k)", "event": "bought"])
            XCTAssertEqual(r.status, 200, r.text)
            converted.insert(leadOf[k]!)
        }
        let r = try client.json("GET", "/v1/experiments/pricing-copy", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["name"] as? String, "pricing-copy")
        XCTAssertEqual(r.json["active"] as? Bool, true)
        XCTAssertEqual(r.json["segments"] as? [String], ["decision.high-intent.pricing"])
        XCTAssertEqual(r.json["holdout"] as? Double, 0.2)
        XCTAssertEqual(r.json["leads"] as? Int, users)
        XCTAssertEqual(r.json["conversions"] as? Int, converted.count)
        let reported = try XCTUnwrap(r.json["arms"] as? [[String: Any]])
        XCTAssertEqual(reported.map { $0["arm"] as? String }, ["a", "b", "holdout"])
        var observed: [Int] = []
        for row in reported {
            let name = row["arm"] as! String
            let members = arms.filter { $0.value == name }.map(\.key)
            let wins = members.filter(converted.contains).count
            XCTAssertEqual(row["leads"] as? Int, members.count, name)
            XCTAssertEqual(row["conversions"] as? Int, wins, name)
            XCTAssertEqual(try XCTUnwrap(row["rate"] as? Double), Double(wins) / Double(members.count), accuracy: 1e-12)
            let interval = try XCTUnwrap(row["interval"] as? [String: Double])
            let wilson = try XCTUnwrap(ExperimentStatistics.wilson(successes: wins, n: members.count))
            XCTAssertEqual(interval["low"]!, wilson.low, accuracy: 1e-12)
            XCTAssertEqual(interval["high"]!, wilson.high, accuracy: 1e-12)
            XCTAssertEqual(row["expected_share"] as? Double, name == "holdout" ? 0.2 : 0.4)
            if name == "holdout" {
                XCTAssertTrue(row["versus_holdout"] is NSNull)
            } else {
                let versus = try XCTUnwrap(row["versus_holdout"] as? [String: Any])
                let h = arms.filter { $0.value == "holdout" }.map(\.key)
                let hw = h.filter(converted.contains).count
                XCTAssertEqual(try XCTUnwrap(versus["difference"] as? Double),
                               Double(wins) / Double(members.count) - Double(hw) / Double(h.count), accuracy: 1e-12)
                XCTAssertEqual(versus["too_small_to_say"] as? Bool, true, "80 leads cannot tell copy apart")
                XCTAssertNotNil(versus["p_value"] as? Double)
            }
            observed.append(members.count)
        }
        let srm = try XCTUnwrap(r.json["sample_ratio"] as? [String: Any])
        let expected = try XCTUnwrap(ExperimentStatistics.chiSquared(observed: observed, expectedShares: [0.4, 0.4, 0.2]))
        XCTAssertEqual(try XCTUnwrap(srm["p_value"] as? Double), expected.pValue, accuracy: 1e-12)
        XCTAssertEqual(srm["degrees_of_freedom"] as? Int, 2)
        XCTAssertEqual(srm["mismatch"] as? Bool, expected.pValue < 0.001)

        let list = try client.json("GET", "/v1/experiments", key: service.readKey)
        XCTAssertEqual(list.status, 200, list.text)
        XCTAssertEqual((list.json["experiments"] as? [[String: Any]])?.map { $0["name"] as? String }, ["pricing-copy"])
        XCTAssertEqual(try client.json("GET", "/v1/experiments/nope", key: service.readKey).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/experiments/pricing-copy", key: service.ingestKey).status, 403)
    }
}
