import XCTest
@testable import Profiles
@testable import Segmentation

/// Consent (issue 17): the ruleset maps channels to consent categories; a channel whose category
/// the lead refused — or never answered, when the default is `denied` — is suppressed with reason
/// `consent`, in the pure engine.
final class ConsentTests: XCTestCase {
    func ruleset(default answer: String) -> Engine {
        Engine(load(sampleYAML.replacingOccurrences(of: "teams:\n", with: """
            consent:
              default: \(answer)
              channels: { email: marketing, ads: advertising }
            teams:

            """)))
    }

    func cartLead(consent: [String: Bool]?) -> LeadState {
        var state = LeadState()
        if let consent { ProfileMapper().applyConsent(.object(consent.mapValues { .bool($0) }), to: &state) }
        return state
    }

    func testRefusedCategorySuppressesItsChannelWithReasonConsent() {
        let engine = ruleset(default: "granted")
        let refused = engine.evaluate(state: cartLead(consent: ["marketing": false]), event: ev("Product Added", 0), now: t0)
        XCTAssertEqual(refused.decision.actions.map(\.channel), ["ads", "sales"])
        XCTAssertEqual(refused.decision.suppressed, [SuppressedAction(channel: "email", reason: "consent")])
        // Never answered, default granted: every channel acts.
        let silent = engine.evaluate(state: cartLead(consent: nil), event: ev("Product Added", 0), now: t0)
        XCTAssertEqual(silent.decision.actions.map(\.channel), ["email", "ads", "sales"])
        XCTAssertEqual(silent.decision.suppressed, [])
        // Flipping the answer re-evaluates to the email action.
        var state = refused.newState
        ProfileMapper().applyConsent(.object(["Marketing": .bool(true)]), to: &state)
        let granted = engine.evaluate(state: state, now: at(1).date)
        XCTAssertEqual(granted.decision.actions.map(\.channel), ["email", "ads", "sales"])
    }

    func testDefaultDeniedSuppressesUnansweredCategoriesAndConsentWinsOverOtherReasons() {
        let engine = ruleset(default: "denied")
        let r = engine.evaluate(state: cartLead(consent: ["advertising": true]), event: ev("Product Added", 0), now: t0)
        XCTAssertEqual(r.decision.actions.map(\.channel), ["ads", "sales"])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "email", reason: "consent")])
        // A customer (ads suppressed by `lead.customer`) who never answered for advertising: one
        // entry for ads, the consent one.
        var customer = cartLead(consent: ["marketing": true])
        customer.customer = true
        let c = engine.evaluate(state: customer, event: ev("Product Added", 0), now: t0)
        XCTAssertEqual(c.decision.suppressed, [SuppressedAction(channel: "ads", reason: "consent")])
        XCTAssertEqual(c.decision.actions.map(\.channel), ["email", "sales"])
    }

    func testConsentAnswersMergeAndIgnoreWhatIsNotABoolean() {
        var state = LeadState()
        let mapper = ProfileMapper()
        mapper.applyContextConsent(["consent": .object(["categoryPreferences": .object(["Marketing": .bool(false), "Analytics": .string("yes")])])],
                                   to: &state)
        mapper.applyPersonTraits(["consent": .object(["advertising": .bool(true)])], to: &state)
        XCTAssertEqual(state.traits["consent"], .object(["marketing": .bool(false), "advertising": .bool(true)]))
    }

    func testRulesCheckReportsBadConsentKeysWithLineAndColumn() {
        let errors = loadErrors(sampleYAML.replacingOccurrences(of: "teams:\n", with: """
            consent:
              default: maybe
              channels: { email: Marketing, phone: calls }
              retain: 3d
            teams:

            """))
        XCTAssertTrue(errors.contains { $0.contains(":28:") && $0.contains("granted or denied") }, errors.joined(separator: "\n"))
        XCTAssertTrue(errors.contains { $0.contains("`Marketing` must be a lowercase name") }, errors.joined(separator: "\n"))
        XCTAssertTrue(errors.contains { $0.contains("phone") }, errors.joined(separator: "\n"))
        XCTAssertTrue(errors.contains { $0.contains("retain") }, errors.joined(separator: "\n"))
        XCTAssertTrue(errors.allSatisfy { $0.hasPrefix("r.yaml:") }, errors.joined(separator: "\n"))
    }
}
