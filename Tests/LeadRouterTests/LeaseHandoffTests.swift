import Foundation
import XCTest
@testable import Essentials
@testable import LeadStore
@testable import Webhooks

/// The leaser → workers queue: leases come in batches, only while a worker is idle and the
/// queue runs low, and a delivery whose lease no longer covers an attempt is given back instead
/// of sent.
final class LeaseHandoffTests: XCTestCase {
    private func delivery(_ id: Int64) -> LeasedDelivery {
        LeasedDelivery(id: id, subscriptionId: UUID(), outboxId: id, leadId: UUID(), attempt: 1, url: "http://example.com/",
                       secret: "whsec_x", maxAttempts: 3, topic: "lead.routed", payload: Array("{}".utf8),
                       createdAt: Date(), windowStartedAt: Date())
    }

    func testLeasesABatchOnlyWhenAWorkerIsIdleAndFewerThanOnePerWorkerWait() {
        let handoff = LeaseHandoff(workers: 2, batch: 16, holdOff: 60)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 16, "an empty queue asks for a whole batch")
        handoff.hand((1...16).map(delivery), asked: 16, sendBy: MonotonicClock.deadline(after: 60))
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0, "a full queue asks for nothing")
        for id in 1...14 {
            XCTAssertEqual(handoff.take()?.id, Int64(id), "taken in lease order")
            handoff.done(failed: false)
        }
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0, "2 waiting for 2 workers: not low yet")
        XCTAssertEqual(handoff.take()?.id, 15)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 15, "1 left and a worker idle: a batch less what waits")
        XCTAssertEqual(handoff.take()?.id, 16)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0, "both workers busy (a receiver that hangs): nothing more")
        handoff.done(failed: false)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 16)
        handoff.hand([delivery(17)], asked: 1, sendBy: MonotonicClock.deadline(after: 60))
        XCTAssertEqual(handoff.stop().map(\.id), [17], "stopping gives back what was not taken")
        XCTAssertNil(handoff.take())
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0)
    }

    func testAfterAShortLeaseTheNextWaitsForFinishedAttemptsNewWorkOrTheHoldOff() {
        let handoff = LeaseHandoff(workers: 2, batch: 16, holdOff: 60)
        handoff.hand([delivery(1), delivery(2)], asked: 16, sendBy: MonotonicClock.deadline(after: 60))
        XCTAssertEqual(handoff.take()?.id, 1)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0, "1 waiting, a worker idle, but no attempt finished since the short lease")
        handoff.done(failed: false)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 15, "half as many attempts as it got finished")

        handoff.hand([], asked: 15, sendBy: MonotonicClock.deadline(after: 60))
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 0, "nothing was due: wait")
        handoff.newWork()
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 15, "the dispatcher made new deliveries")

        let quick = LeaseHandoff(workers: 1, batch: 4, holdOff: 0.05)
        quick.hand([], asked: 4, sendBy: MonotonicClock.deadline(after: 60))
        XCTAssertEqual(quick.capacity(waitingUpTo: 0), 0)
        XCTAssertEqual(quick.capacity(waitingUpTo: 1), 4, "the hold-off ends the wait")
    }

    func testAfterAFailedAttemptTheNextLeaseAsksOnlyForTheIdleWorkers() {
        let handoff = LeaseHandoff(workers: 4, batch: 32, holdOff: 60)
        handoff.hand((1...32).map(delivery), asked: 32, sendBy: MonotonicClock.deadline(after: 60))
        for _ in 1...31 { _ = handoff.take(); handoff.done(failed: false) }
        _ = handoff.take()
        handoff.done(failed: true)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 4, "a receiver failed: one per idle worker, not a batch")
        handoff.hand([], asked: 4, sendBy: MonotonicClock.deadline(after: 60))
        handoff.newWork()
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 4, "a lease that got nothing changes nothing")
        handoff.hand((33...36).map(delivery), asked: 4, sendBy: MonotonicClock.deadline(after: 60))
        for id in 33...35 { XCTAssertEqual(handoff.take()?.id, Int64(id)); handoff.done(failed: true) }
        XCTAssertEqual(handoff.take()?.id, 36)
        handoff.done(failed: false)
        XCTAssertEqual(handoff.capacity(waitingUpTo: 0), 32, "the last attempt got a 2xx: a whole batch again")
    }

    func testABatchIsAtLeastOnePerWorker() {
        XCTAssertEqual(LeaseHandoff(workers: 8, batch: 2, holdOff: 60).capacity(waitingUpTo: 0), 8)
    }

    func testDeliveriesPastTheirSendDeadlineAreGivenBackNotSent() {
        let handoff = LeaseHandoff(workers: 2, batch: 8, holdOff: 60)
        handoff.hand([delivery(1), delivery(2)], asked: 2, sendBy: MonotonicClock.nanoseconds())  // already past
        handoff.hand([delivery(3)], asked: 1, sendBy: MonotonicClock.deadline(after: 60))
        usleep(1000)
        XCTAssertEqual(handoff.take()?.id, 3, "the stale ones are skipped")
        XCTAssertEqual(handoff.takeStale().map(\.id), [1, 2])
        XCTAssertEqual(handoff.takeStale().map(\.id), [], "given back once")
    }

    func testAWaitingWorkerWakesForAHandedBatch() {
        let handoff = LeaseHandoff(workers: 1, batch: 4, holdOff: 60)
        let taken = Locked<Int64?>(nil)
        let worker = Thread { taken.withLock { $0 = handoff.take()?.id } }
        worker.start()
        usleep(20_000)
        handoff.hand([delivery(9)], asked: 1, sendBy: MonotonicClock.deadline(after: 60))
        for _ in 0..<200 where taken.withLock({ $0 }) == nil { usleep(5000) }
        XCTAssertEqual(taken.withLock { $0 }, 9)
    }
}
