import Foundation
import XCTest
@testable import Ingest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Ingest and `rules test` map traits with one `ProfileMapper`: the same traits sent as an
/// identify and written in a case file must give the same lead state, or a case could pass in
/// `rules test` and decide differently in production.
final class ProfileMappingParityTests: XCTestCase {
    let received = Date(timeIntervalSince1970: 1_700_000_000)

    func testIdentifyTraitsAndCaseFileTraitsGiveTheSameLeadState() throws {
        let traitSets: [[String: CaseValue]] = [
            // Hygiene: email trimmed and lower-cased with its company domain; country name to alpha-2;
            // company fields cleaned (domain from a URL, size from a range, industry lower-cased).
            ["email": .string(" Lena.Schmidt@ACME.example "), "country": .string("Germany"), "region": .string("BE"),
             "ship_to_region": .string("eu"), "plan": .string("team"),
             "company": .object(["domain": .string("https://www.Acme.example/about"), "size": .string("51-200"),
                                 "industry": .string("SaaS"), "tech_stack": .string("shopify, klaviyo"),
                                 "name": .string("Acme GmbH")])],
            // Free mail gives no company domain; an address object carries country and region.
            ["email": .string("someone@gmail.com"), "vip": .bool(true),
             "address": .object(["country": .string("de"), "state": .string("Berlin")])],
            // An invalid email is a trait, never an identity; an unknown country stays a trait.
            ["email": .string("not an email"), "country": .string("Atlantis"), "employees": .number(12),
             "tags": .list([.string("a"), .number(2)])],
            // Traits cannot set the status, neither in a case's event nor from a sender.
            ["email": .string("b@shop.example"), "status": .string("converted"), "customer": .bool(true),
             "ship_to_region": .string("na")],
        ]
        for traits in traitSets {
            XCTAssertEqual(try ingestState(traits: Self.json(.object(traits))), caseFileState(traits), "traits: \(traits)")
        }
    }

    func testTheMapperIsWhatBothSidesApply() throws {
        let state = try ingestState(traits: #"{"email": "Lena@Acme.Example", "country": "germany"}"#)
        XCTAssertEqual(state.email, "lena@acme.example")
        XCTAssertEqual(state.company.domain, "acme.example")
        XCTAssertEqual(state.country, "DE")
        let fromCase = caseFileState(["email": .string("Lena@Acme.Example"), "country": .string("germany")])
        XCTAssertEqual(fromCase.email, "lena@acme.example")
        XCTAssertEqual(fromCase.company.domain, "acme.example")
        XCTAssertEqual(fromCase.country, "DE")
    }

    /// The state ingest builds for an identify with `traits` from a new lead.
    func ingestState(traits: String) throws -> LeadState {
        let body = #"{"userId": "u1", "traits": "# + traits + "}"
        let message = try SegmentMessageDecoder().decodeSingle(Array(body.utf8), kind: .identify, receivedAt: received)
        var state = LeadState()
        ProfileUpdate().apply(message, identity: MessageIdentity(message), to: &state)
        return state
    }

    /// The state a case's event with the same traits (and `user_id`) gives a new lead.
    func caseFileState(_ traits: [String: CaseValue]) -> LeadState {
        var fields = traits
        fields["user_id"] = .string("u1")
        var state = LeadState()
        LeadProfile.apply(traits: fields, to: &state)
        return state
    }

    /// JSON text for a case value (the test's traits sent over the ingest decoder).
    static func json(_ value: CaseValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return "\(n)"
        case .string(let s): return "\"\(s)\""
        case .list(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { "\"\($0.key)\":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }
}
