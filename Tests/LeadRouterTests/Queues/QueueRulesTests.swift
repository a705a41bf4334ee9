import Foundation
import XCTest
@testable import LeadStore
@testable import SalesQueues

/// The pure parts of the queues: lease decisions, long-poll steps, request bodies, CSV import.
final class QueueRulesTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let token = UUID()

    func testLeaseRules() {
        let held = LeaseSnapshot(state: "claimed", claimToken: token, leaseUntil: now.addingTimeInterval(30))
        XCTAssertEqual(LeaseRules.decide(held, token: token, operation: .ack(outcome: "sales_outreach_started"), now: now),
                       .close(outcome: "sales_outreach_started"))
        XCTAssertEqual(LeaseRules.decide(held, token: token, operation: .release, now: now), .reopen)
        XCTAssertEqual(LeaseRules.decide(held, token: token, operation: .extend(seconds: 120), now: now),
                       .setLease(until: now.addingTimeInterval(120)))
        XCTAssertEqual(LeaseRules.decide(held, token: UUID(), operation: .release, now: now),
                       .conflict("the claim token is stale: the item was claimed again"))
        XCTAssertEqual(LeaseRules.decide(held, token: token, operation: .release, now: now.addingTimeInterval(30)),
                       .conflict("the lease expired"))
        let reopened = LeaseSnapshot(state: "open", claimToken: nil, leaseUntil: nil)
        XCTAssertEqual(LeaseRules.decide(reopened, token: token, operation: .ack(outcome: "x"), now: now),
                       .conflict("the item is not claimed (its lease ended)"))
        let closed = LeaseSnapshot(state: "closed", claimToken: token, leaseUntil: nil)
        XCTAssertEqual(LeaseRules.decide(closed, token: token, operation: .extend(seconds: 5), now: now), .conflict("the item is closed"))
        XCTAssertTrue(LeaseRules.isExpired(held, now: now.addingTimeInterval(30)))
        XCTAssertFalse(LeaseRules.isExpired(held, now: now.addingTimeInterval(29)))
        XCTAssertFalse(LeaseRules.isExpired(reopened, now: now))
    }

    func testLongPollSteps() {
        let deadline = now.addingTimeInterval(10)
        XCTAssertEqual(LongPollStep.next(claimed: 1, now: now, deadline: deadline), .answer)
        XCTAssertEqual(LongPollStep.next(claimed: 0, now: now, deadline: deadline), .wait(until: deadline))
        XCTAssertEqual(LongPollStep.next(claimed: 0, now: deadline, deadline: deadline), .answer)
    }

    func testWaitersNeverLoseAWakeUpAndAreCapped() {
        let waiters = QueueWaiters(listener: nil, maxWaiters: 1)
        XCTAssertTrue(waiters.admit())
        XCTAssertFalse(waiters.admit(), "one waiter at most")
        let seen = waiters.version(of: "q")
        waiters.notified(queue: "other")
        waiters.notified(queue: "q")   // arrives between the look at the table and the sleep
        XCTAssertTrue(waiters.wait(queue: "q", seen: seen, until: Date().addingTimeInterval(5)))
        XCTAssertFalse(waiters.wait(queue: "q", seen: waiters.version(of: "q"), until: Date().addingTimeInterval(0.05)))
        waiters.leave()
        XCTAssertTrue(waiters.admit())
        waiters.stop()
        XCTAssertFalse(waiters.wait(queue: "q", seen: waiters.version(of: "q"), until: Date().addingTimeInterval(5)))
        XCTAssertEqual(waiters.counters, QueueWaiters.Counters(wokenByNotify: 1, timedOut: 1, rejected: 1))
    }

    func testClaimRequestDefaultsAndErrors() throws {
        XCTAssertEqual(try ClaimRequest.parse([]), ClaimRequest(ownerId: nil, limit: 1, leaseSeconds: 300, waitSeconds: 0))
        XCTAssertEqual(try ClaimRequest.parse(Array(#"{"owner_id":"rep_anna","limit":5,"lease_seconds":60,"wait_seconds":20}"#.utf8)),
                       ClaimRequest(ownerId: "rep_anna", limit: 5, leaseSeconds: 60, waitSeconds: 20))
        XCTAssertThrowsError(try ClaimRequest.parse(Array(#"{"limit":0,"lease_seconds":"x","wait_seconds":61,"owner_id":7}"#.utf8))) { error in
            XCTAssertEqual((error as? QueueRequestError)?.errors.map(\.pointer).sorted(),
                           ["/lease_seconds", "/limit", "/owner_id", "/wait_seconds"])
        }
        XCTAssertThrowsError(try ClaimRequest.parse(Array("[1]".utf8))) { error in
            XCTAssertEqual((error as? QueueRequestError)?.errors, [QueueFieldError(pointer: "", detail: "the body must be a JSON object")])
        }
        XCTAssertThrowsError(try ClaimRequest.parse(Array(#"{"limit":true}"#.utf8)))
    }

    func testLeaseRequests() throws {
        let t = token.uuidString
        XCTAssertEqual(try LeaseRequest.parse(Array(#"{"claim_token":"\#(t)"}"#.utf8), verb: "ack"),
                       LeaseRequest(token: token, operation: .ack(outcome: "contacted")))
        XCTAssertEqual(try LeaseRequest.parse(Array(#"{"claim_token":"\#(t)","outcome":"meeting_booked","note":"Left voicemail"}"#.utf8), verb: "ack"),
                       LeaseRequest(token: token, operation: .ack(outcome: "meeting_booked"), note: "Left voicemail"))
        XCTAssertEqual(try LeaseRequest.parse(Array(#"{"claim_token":"\#(t)","lease_seconds":90}"#.utf8), verb: "extend"),
                       LeaseRequest(token: token, operation: .extend(seconds: 90)))
        XCTAssertEqual(try LeaseRequest.parse(Array(#"{"claim_token":"\#(t)"}"#.utf8), verb: "release"),
                       LeaseRequest(token: token, operation: .release))
        // Outcome names are checked against the ruleset by the service, not by the parser.
        XCTAssertThrowsError(try LeaseRequest.parse(Array(#"{"claim_token":"nope","outcome":"","note":7}"#.utf8), verb: "ack")) { error in
            XCTAssertEqual((error as? QueueRequestError)?.errors.map(\.pointer), ["/claim_token", "/outcome", "/note"])
        }
        XCTAssertThrowsError(try LeaseRequest.parse([], verb: "release")) { error in
            XCTAssertEqual((error as? QueueRequestError)?.errors, [QueueFieldError(pointer: "/claim_token", detail: "is required")])
        }
    }

    func testAccountsCSV() {
        let csv = AccountsCSV("""
            name,Domain,owner_id
            Acme,https://www.ACME.com/about,rep_anna
            "Quote, Inc",quote.io,"rep_ben"
            Broken,not a domain,rep_anna
            NoOwner,example.org,

            Short
            """)
        XCTAssertEqual(csv.accounts.map(\.domain), ["acme.com", "quote.io"])
        XCTAssertEqual(csv.accounts.map(\.ownerId), ["rep_anna", "rep_ben"])
        XCTAssertEqual(csv.errors.map(\.description), ["line 4: 'not a domain' is not a domain", "line 5: owner_id is empty",
                                                       "line 7: too few columns"])
        XCTAssertEqual(AccountsCSV("domain\nx.com").errors.map(\.line), [1])
        XCTAssertEqual(AccountDomain.normalise(" Shop.Example.CO.UK "), "shop.example.co.uk")
        XCTAssertNil(AccountDomain.normalise("localhost"))
    }
}
