import Foundation
import XCTest
@testable import HTTPServer

final class WorkerPoolTests: XCTestCase {
    func testCapacityIsFreeWorkersPlusQueueDepthAndEveryTakenJobRuns() throws {
        let pool = WorkerPool(threadCount: 2, queueDepth: 3)
        try pool.start()
        let gate = Gate()
        let done = NSLock()
        nonisolated(unsafe) var ran: [Int] = []
        let jobs: [WorkerPool.Job] = (0..<7).map { i in
            { gate.wait(); done.withLock { ran.append(i) } }
        }
        XCTAssertEqual(pool.submit(jobs), 5, "2 idle workers + 3 waiting")
        XCTAssertTrue(gate.waitForEntered(2))
        XCTAssertFalse(pool.submit { }, "saturated: both busy, queue full")
        gate.release()
        pool.shutdown(deadline: monotonicNow() + .seconds(5))
        XCTAssertEqual(ran.sorted(), [0, 1, 2, 3, 4])
        XCTAssertFalse(pool.submit { }, "stopped")
    }

    /// A worker that has not reached its first wait is free all the same: a burst that arrives
    /// right after start (or while workers are between jobs) must not get a spurious 503.
    func testWorkersNotYetAsleepCountAsFree() throws {
        let pool = WorkerPool(threadCount: 1, queueDepth: 1)
        XCTAssertEqual(pool.submit([{}, {}, {}]), 2, "1 free worker + 1 waiting, before any thread runs")
        try pool.start()
        pool.shutdown(deadline: monotonicNow() + .seconds(5))
    }
}
