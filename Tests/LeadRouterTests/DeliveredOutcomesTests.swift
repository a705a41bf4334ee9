import Foundation
import XCTest
@testable import Essentials
@testable import LeadStore
@testable import Webhooks

/// The flat-combining recorder of 2xx outcomes: every outcome is written exactly once, by one
/// writer at a time, and nothing is left waiting when the last worker returns.
final class DeliveredOutcomesTests: XCTestCase {
    func testEightWorkersOutcomesAreEachWrittenOnceByOneWriterAtATime() {
        let outcomes = DeliveredOutcomes()
        let written = Locked<[Int64]>([])
        let writers = Locked((now: 0, most: 0, batches: 0))
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for n in 0..<500 {
                let id = Int64(worker * 1000 + n)
                outcomes.record(DeliveredOutcome(id: id, attempt: 1, httpStatus: 204)) { batch in
                    writers.withLock { $0.now += 1; $0.most = max($0.most, $0.now); $0.batches += 1 }
                    usleep(200)  // a statement's round trip
                    written.withLock { $0 += batch.map(\.id) }
                    writers.withLock { $0.now -= 1 }
                }
            }
        }
        let ids = written.withLock { $0 }
        XCTAssertEqual(ids.count, 4000)
        XCTAssertEqual(Set(ids).count, 4000, "each outcome written once")
        let stats = writers.withLock { $0 }
        XCTAssertEqual(stats.most, 1, "one writer at a time")
        XCTAssertLessThan(stats.batches, 4000, "outcomes that arrived while a batch was written were written together")
    }

    func testALoneOutcomeIsWrittenAtOnce() {
        let outcomes = DeliveredOutcomes()
        var batches: [[DeliveredOutcome]] = []
        outcomes.record(DeliveredOutcome(id: 7, attempt: 2, httpStatus: 200)) { batches.append($0) }
        XCTAssertEqual(batches, [[DeliveredOutcome(id: 7, attempt: 2, httpStatus: 200)]])
    }
}
