import Essentials
import Foundation
import XCTest

final class ConditionLockedTests: XCTestCase {
    func testWaitUntilPredicateHolds() {
        let box = ConditionLocked(0)
        let thread = NativeThread.start(name: "test-signaller") {
            for _ in 0..<5 {
                usleep(2_000)
                box.withLock { $0 += 1 }
                box.signal()
            }
        }
        let seen = box.withLock(when: { $0 >= 5 }) { $0 }
        XCTAssertEqual(seen, 5)
        thread.join()
    }

    func testTimedWaitTimesOutWithoutSignal() {
        let box = ConditionLocked(false)
        let start = MonotonicClock.nanoseconds()
        let satisfied = box.withLock(when: { $0 }, timeout: 0.05) { _, ok in ok }
        let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
        XCTAssertFalse(satisfied)
        XCTAssertGreaterThanOrEqual(elapsed, 0.049)
        XCTAssertLessThan(elapsed, 2)
    }

    func testTimedWaitEndsEarlyWhenSignalled() {
        let box = ConditionLocked(false)
        let thread = NativeThread.start(name: "test-signaller") {
            usleep(10_000)
            box.withLock { $0 = true }
            box.signal()
        }
        let start = MonotonicClock.nanoseconds()
        XCTAssertTrue(box.withLock(when: { $0 }, timeout: 10) { _, ok in ok })
        XCTAssertLessThan(Double(MonotonicClock.nanoseconds() - start) / 1e9, 5)
        thread.join()
    }

    func testAlreadyTrueDoesNotWaitEvenWithPastDeadline() {
        let box = ConditionLocked(1)
        XCTAssertTrue(box.withLock(when: { $0 == 1 }, deadline: 0) { _, ok in ok })
        XCTAssertFalse(box.withLock(when: { $0 == 2 }, deadline: 0) { _, ok in ok })
    }

    func testBroadcastWakesEveryWaiter() {
        let box = ConditionLocked((open: false, waiting: 0, through: 0))
        let threads = (0..<4).map { i in
            NativeThread.start(name: "test-waiter-\(i)") {
                box.withCondition { held in
                    held.value.waiting += 1
                    while !held.value.open { held.wait() }
                    held.value.through += 1
                }
            }
        }
        // All four are asleep before the gate opens.
        while box.withLock({ $0.waiting }) < 4 { usleep(1_000) }
        box.withLock { $0.open = true }
        box.broadcast()
        for thread in threads { thread.join() }
        XCTAssertEqual(box.withLock { $0.through }, 4)
    }

    func testSignalWakesOneWaiterAtATime() {
        let box = ConditionLocked((tokens: 0, taken: 0, waiting: 0))
        let threads = (0..<3).map { i in
            NativeThread.start(name: "test-taker-\(i)") {
                box.withCondition { held in
                    held.value.waiting += 1
                    while held.value.tokens == 0 { held.wait() }
                    held.value.tokens -= 1
                    held.value.taken += 1
                }
            }
        }
        while box.withLock({ $0.waiting }) < 3 { usleep(1_000) }
        for _ in 0..<3 {
            box.withLock { $0.tokens += 1 }
            box.signal()
        }
        for thread in threads { thread.join() }
        XCTAssertEqual(box.withLock { $0.taken }, 3)
        XCTAssertEqual(box.withLock { $0.tokens }, 0)
    }

    func testLockedIsMutuallyExclusive() {
        let counter = Locked(0)
        let threads = (0..<4).map { i in
            NativeThread.start(name: "test-adder-\(i)") { for _ in 0..<10_000 { counter.withLock { $0 += 1 } } }
        }
        for thread in threads { thread.join() }
        XCTAssertEqual(counter.withLock { $0 }, 40_000)
    }

    func testNativeThreadIsNamedAndJoinable() {
        let name = Locked("")
        let thread = NativeThread.start(name: "a-very-long-thread-name") {
            var buffer = [UInt8](repeating: 0, count: 32)
            let fd = open("/proc/thread-self/comm", O_RDONLY)
            if fd >= 0 {
                let n = read(fd, &buffer, 31)
                close(fd)
                if n > 0 { name.withLock { $0 = String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .newlines) } }
            }
        }
        thread.join()
        XCTAssertEqual(name.withLock { $0 }, "a-very-long-thr")
    }
}
