import Foundation
import XCTest
@testable import HTTPServer

final class WorkerPoolTests: XCTestCase {
    func testCapacityIsIdleWorkersPlusQueueDepthAndEveryTakenJobRuns() throws {
        let pool = WorkerPool(threadCount: 2, queueDepth: 3)
        try pool.start()
        Thread.sleep(forTimeInterval: 0.05)  // both workers asleep, idle
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
}
