import Foundation
import Postgres
import XCTest
@testable import LeadStore
@testable import Segmentation

/// Owner assignment at routing time (account → territory → strategy → unassigned) against
/// PostgreSQL, through the one SQL function the ingest hook calls.
final class QueueAssignmentTests: XCTestCase {
    func testRoundRobinIsFairOverAThousandLeadsAndSkipsUnavailableAndFullMembers() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [
            ("rep_a", nil, []), ("rep_b", nil, []), ("rep_c", nil, []), ("rep_d", 5, []), ("rep_e", nil, [])])])
        try f.pool.withConnection { _ = try Store($0).setOwnerAvailable("rep_e", available: false) }
        var skips: [AssignmentSkip] = []
        for _ in 0..<1000 {
            let routed = try f.route(team: "inside")
            XCTAssertEqual(routed.assignedBy, "round_robin")
            skips += routed.skipped ?? []
        }
        let counts = Dictionary(uniqueKeysWithValues: try f.pool.withConnection { conn in
            try conn.query("SELECT owner_id, count(*) AS n FROM queue_items GROUP BY owner_id").map {
                (try $0.decode(String.self, "owner_id"), try $0.decode(Int.self, "n"))
            }
        })
        XCTAssertEqual(counts["rep_d"], 5, "capacity 5 is respected")
        XCTAssertNil(counts["rep_e"], "unavailable members get nothing")
        let fair = ["rep_a", "rep_b", "rep_c"].map { counts[$0] ?? 0 }
        XCTAssertEqual(fair.reduce(0, +), 995)
        XCTAssertLessThanOrEqual(fair.max()! - fair.min()!, 1, "\(counts)")
        // Whenever the rotation passes them, rep_d (once full) and rep_e are named with the reason.
        XCTAssertEqual(Set(skips.map { "\($0.ownerId!) \($0.step) \($0.reason)" }),
                       ["rep_d round_robin at_capacity (5/5)", "rep_e round_robin unavailable"])
    }

    func testRoundRobinStaysFairWithConcurrentRouters() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [("rep_a", nil, []), ("rep_b", nil, []), ("rep_c", nil, [])])])
        let results = ConcurrentResults<Int>()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            results.record { for _ in 0..<50 { try f.route(team: "inside") }; return 50 }
        }
        XCTAssertEqual(try results.values().reduce(0, +), 300)
        for owner in ["rep_a", "rep_b", "rep_c"] {
            XCTAssertEqual(try f.count("SELECT count(*) FROM queue_items WHERE owner_id = '\(owner)'"), 100)
        }
    }

    func testAccountOwnerComesFirstUnlessUnavailable() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [("rep_a", nil, []), ("rep_b", nil, [])])])
        try f.pool.withTransaction { try Store($0).upsertAccounts([("acme.com", "ae_zoe")], now: f.clock.now) }
        let first = try f.route(team: "inside", domain: "ACME.com")
        XCTAssertEqual(first.ownerId, "ae_zoe")
        XCTAssertEqual(first.assignedBy, "account")
        XCTAssertEqual(first.skipped, [])
        try f.pool.withConnection { _ = try Store($0).setOwnerAvailable("ae_zoe", available: false) }
        let second = try f.route(team: "inside", domain: "acme.com")
        XCTAssertEqual(second.assignedBy, "round_robin")
        XCTAssertEqual(second.ownerId, "rep_a")
        XCTAssertEqual(second.skipped, [AssignmentSkip(ownerId: "ae_zoe", step: "account", reason: "unavailable")])
    }

    func testTerritoryMembersTakeTheirCountriesAndGeneralistsTheRest() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", fallback: "unassigned_members", [
            ("rep_dach", 1, ["DE", "AT", "CH"]), ("rep_uk", nil, ["GB"]), ("rep_any", nil, [])])])
        let de = try f.route(team: "inside", country: "DE")
        XCTAssertEqual(de.ownerId, "rep_dach"); XCTAssertEqual(de.assignedBy, "territory")
        let gb = try f.route(team: "inside", country: "GB")
        XCTAssertEqual(gb.ownerId, "rep_uk"); XCTAssertEqual(gb.assignedBy, "territory")
        let us = try f.route(team: "inside", country: "US")
        XCTAssertEqual(us.ownerId, "rep_any"); XCTAssertEqual(us.assignedBy, "round_robin")
        // rep_dach is full (capacity 1): the next German lead goes to the generalists, saying why.
        let de2 = try f.route(team: "inside", country: "AT")
        XCTAssertEqual(de2.ownerId, "rep_any"); XCTAssertEqual(de2.assignedBy, "round_robin")
        XCTAssertEqual(de2.skipped, [AssignmentSkip(ownerId: "rep_dach", step: "territory", reason: "at_capacity (1/1)")])
    }

    func testWithFallbackAllLeadsNoTerritoryCoversRotateOverEveryMemberWithCapacity() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [
            ("rep_dach", 1, ["DE", "AT", "CH"]), ("rep_uk", nil, ["GB"]), ("rep_any", nil, [])])])
        XCTAssertEqual(try f.route(team: "inside", country: "DE").ownerId, "rep_dach")
        let us = try (0..<4).map { _ in try f.route(team: "inside", country: "US") }
        // After rep_dach (the last pick) the rotation goes on; rep_dach, full (capacity 1), is skipped, saying why.
        XCTAssertEqual(us.map(\.ownerId), ["rep_uk", "rep_any", "rep_uk", "rep_any"])
        XCTAssertEqual(us.map(\.assignedBy), ["round_robin", "round_robin", "round_robin", "round_robin"])
        XCTAssertEqual(us[1].skipped, [])
        XCTAssertEqual(us[2].skipped, [AssignmentSkip(ownerId: "rep_dach", step: "round_robin", reason: "at_capacity (1/1)")])
    }

    func testLeastLoadedThenEscalationThenUnassigned() throws {
        let f = try QueueFixture(test: self, teams: [
            "enterprise": QueueFixture.team("enterprise", strategy: "least_loaded", escalateTo: "inside", [("ae_a", 2, []), ("ae_b", 2, [])]),
            "inside": QueueFixture.team("inside", [("rep_a", 1, [])])])
        let owners = try (0..<4).map { _ in try f.route(queue: "enterprise", team: "enterprise") }
        XCTAssertEqual(owners.map(\.assignedBy), Array(repeating: "least_loaded", count: 4))
        XCTAssertEqual(owners.compactMap(\.ownerId).sorted(), ["ae_a", "ae_a", "ae_b", "ae_b"])
        let escalated = try f.route(queue: "enterprise", team: "enterprise")
        XCTAssertEqual(escalated.ownerId, "rep_a"); XCTAssertEqual(escalated.assignedBy, "escalation"); XCTAssertEqual(escalated.teamId, "inside")
        let nobody = try f.route(queue: "enterprise", team: "enterprise")
        XCTAssertNil(nobody.ownerId); XCTAssertEqual(nobody.assignedBy, "unassigned"); XCTAssertEqual(nobody.teamId, "enterprise")
        XCTAssertEqual(nobody.skipped?.map(\.ownerId), ["ae_a", "ae_b", "rep_a"])
        XCTAssertEqual(nobody.skipped?.map(\.step), ["least_loaded", "least_loaded", "round_robin"])
    }

    func testTeamsFollowTheRulesetAndKeepAvailability() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [("rep_a", 3, ["de"]), ("rep_b", nil, [])])])
        try f.pool.withConnection { _ = try Store($0).setOwnerAvailable("rep_a", available: false) }
        try f.pool.withTransaction { try Store($0).syncTeams(["inside": QueueFixture.team("inside", [("rep_a", 4, ["DE"])]),
                                                              "outside": QueueFixture.team("outside", [("rep_c", nil, [])])]) }
        let owners = try f.pool.withConnection { try Store($0).owners() }
        XCTAssertEqual(owners.map(\.id), ["rep_a", "rep_b", "rep_c"])
        XCTAssertEqual(owners[0].available, false)
        XCTAssertEqual(owners[0].teams, [OwnerView.Membership(team: "inside", capacity: 4, territories: ["DE"])])
        XCTAssertEqual(owners[1].teams, [])
        XCTAssertEqual(try f.count("SELECT count(*) FROM round_robin_state"), 2)
    }
}
