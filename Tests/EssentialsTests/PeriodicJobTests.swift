import Essentials
import Foundation
import XCTest

final class PeriodicJobTests: XCTestCase {
    /// Waits (real time) until `condition` holds.
    private func eventually(_ what: String, timeout: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return XCTFail("timed out waiting for \(what)") }
            usleep(1_000)
        }
    }

    func testTicksOncePerIntervalOfTheInjectedClock() {
        let sleeper = ManualSleeper()
        let ticks = Locked(0)
        let job = PeriodicJob(name: "test-ticks", interval: 10, sleeper: sleeper)
        job.start { ticks.withLock { $0 += 1 }; return .pause }
        XCTAssertTrue(sleeper.waitForSleepers(1))
        XCTAssertEqual(ticks.withLock { $0 }, 1)  // the first tick runs at once
        sleeper.advance(by: 9.5)
        usleep(20_000)
        XCTAssertEqual(ticks.withLock { $0 }, 1)  // not yet: 9.5 of 10 seconds
        sleeper.advance(by: 0.5)
        eventually("second tick") { ticks.withLock { $0 } == 2 }
        for expected in 3...6 {
            XCTAssertTrue(sleeper.waitForSleepers(1))
            sleeper.advance(by: 10)
            eventually("tick \(expected)") { ticks.withLock { $0 } == expected }
        }
        job.stop()
        XCTAssertEqual(ticks.withLock { $0 }, 6)
        XCTAssertEqual(Set(sleeper.pauses), [10])
    }

    func testPauseFirstWaitsBeforeTheFirstTick() {
        let sleeper = ManualSleeper()
        let ticks = Locked(0)
        let job = PeriodicJob(name: "test-pause-first", interval: 1, sleeper: sleeper)
        job.start(pauseFirst: true) { ticks.withLock { $0 += 1 }; return .pause }
        XCTAssertTrue(sleeper.waitForSleepers(1))
        XCTAssertEqual(ticks.withLock { $0 }, 0)
        sleeper.advance(by: 1)
        eventually("first tick") { ticks.withLock { $0 } == 1 }
        job.stop()
    }

    func testRunAgainSkipsThePauseAndFinishEndsTheLoop() {
        let sleeper = ManualSleeper()
        let ticks = Locked(0)
        let job = PeriodicJob(name: "test-run-again", interval: 60, sleeper: sleeper)
        job.start {
            let n = ticks.withLock { $0 += 1; return $0 }
            return n < 5 ? .runAgain : .finish
        }
        job.join()  // ends by itself
        XCTAssertEqual(ticks.withLock { $0 }, 5)
        XCTAssertEqual(sleeper.pauses, [])
    }

    func testStopWaitsForTheRunningTick() {
        let inTick = ConditionLocked((entered: false, release: false))
        let finished = Locked(false)
        let job = PeriodicJob(name: "test-stop", interval: 3600)
        job.start {
            inTick.withLock { $0.entered = true }
            inTick.broadcast()
            inTick.withLock(when: { $0.release }) { _ in }
            finished.withLock { $0 = true }
            return .pause
        }
        inTick.withLock(when: { $0.entered }) { _ in }
        let stopped = Locked(false)
        let stopper = NativeThread.start(name: "test-stopper") {
            job.stop()
            stopped.withLock { $0 = true }
        }
        usleep(50_000)
        XCTAssertFalse(stopped.withLock { $0 }, "stop() returned while a tick was running")
        inTick.withLock { $0.release = true }
        inTick.broadcast()
        stopper.join()
        XCTAssertTrue(finished.withLock { $0 })
        XCTAssertTrue(stopped.withLock { $0 })
    }

    func testStopEndsARealTimePauseAtOnce() {
        let job = PeriodicJob(name: "test-stop-pause", interval: 3600)
        let ticks = Locked(0)
        job.start { ticks.withLock { $0 += 1 }; return .pause }
        eventually("first tick") { ticks.withLock { $0 } == 1 }
        let start = Date()
        job.stop()
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(ticks.withLock { $0 }, 1)
    }

    func testWakeRunsEarly() {
        let job = PeriodicJob(name: "test-wake", interval: 3600)
        let ticks = Locked(0)
        job.start { ticks.withLock { $0 += 1 }; return .pause }
        eventually("first tick") { ticks.withLock { $0 } == 1 }
        job.wake()
        eventually("woken tick") { ticks.withLock { $0 } == 2 }
        job.stop()
    }

    func testWakeDuringATickSkipsTheNextPause() {
        let sleeper = ManualSleeper()
        let ticks = Locked(0)
        let job = PeriodicJob(name: "test-wake-tick", interval: 60, sleeper: sleeper)
        job.start {
            let n = ticks.withLock { $0 += 1; return $0 }
            if n == 1 { job.wake() }  // work arrived while this tick ran
            return .pause
        }
        eventually("tick after the wake") { ticks.withLock { $0 } == 2 }
        XCTAssertTrue(sleeper.waitForSleepers(1))  // the wake is used up: now it pauses
        XCTAssertEqual(ticks.withLock { $0 }, 2)
        job.stop()
    }

    func testJitterStaysWithinBounds() {
        let draws = Locked([0.0, 0.999_999, 0.5, 0.25])
        let job = PeriodicJob(name: "test-jitter", interval: 10, jitter: 0.2, random: {
            draws.withLock { $0.isEmpty ? Double.random(in: 0..<1) : $0.removeFirst() }
        })
        XCTAssertEqual(job.nextPause(), 8, accuracy: 1e-9)
        XCTAssertEqual(job.nextPause(), 12, accuracy: 1e-4)
        XCTAssertEqual(job.nextPause(), 10, accuracy: 1e-9)
        XCTAssertEqual(job.nextPause(), 9, accuracy: 1e-9)
        var seen: [Double] = []
        for _ in 0..<2000 {
            let pause = job.nextPause()
            XCTAssertGreaterThanOrEqual(pause, 8)
            XCTAssertLessThanOrEqual(pause, 12)
            seen.append(pause)
        }
        XCTAssertLessThan(seen.min()!, 8.5)
        XCTAssertGreaterThan(seen.max()!, 11.5)
        XCTAssertEqual(PeriodicJob(name: "test-no-jitter", interval: 10).nextPause(), 10)
    }

    func testJitteredPausesReachTheSleeper() {
        let sleeper = ManualSleeper()
        let job = PeriodicJob(name: "test-jitter-sleep", interval: 1, jitter: 0.5, sleeper: sleeper, random: { 1 })
        job.start { .pause }
        XCTAssertTrue(sleeper.waitForSleepers(1))
        job.stop()
        XCTAssertEqual(sleeper.pauses.first ?? 0, 1.5, accuracy: 1e-9)
    }

    func testStopBeforeStartAndTwiceReturn() {
        let job = PeriodicJob(name: "test-never", interval: 1)
        job.stop()
        job.stop()
        let ticks = Locked(0)
        job.start { ticks.withLock { $0 += 1 }; return .pause }  // after stop: never runs
        usleep(20_000)
        XCTAssertEqual(ticks.withLock { $0 }, 0)
    }

    func testStopFromTheTickItselfDoesNotDeadlock() {
        let job = PeriodicJob(name: "test-self-stop", interval: 60)
        let ticks = Locked(0)
        job.start {
            ticks.withLock { $0 += 1 }
            job.stop()
            return .pause
        }
        eventually("the tick") { ticks.withLock { $0 } == 1 }
        job.join()
        XCTAssertEqual(ticks.withLock { $0 }, 1)
    }
}
