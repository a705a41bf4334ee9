import Postgres
import XCTest

/// The pool's decisions, without a database: connections are plain integers.
final class PoolStateMachineTests: XCTestCase {
    private func machine(min: Int = 0, max: Int = 2, idle: Double = 10) -> PoolStateMachine<Int> {
        PoolStateMachine(limits: .init(minConnections: min, maxConnections: max, idleTimeout: idle))
    }

    func testOpensUpToMaxThenWaits() {
        var sm = machine(max: 2)
        guard case .connect = sm.acquire() else { return XCTFail("expected connect") }
        guard case .connect = sm.acquire() else { return XCTFail("expected connect") }
        guard case .wait = sm.acquire() else { return XCTFail("expected wait") }
        XCTAssertEqual(sm.busyCount, 2)
        guard case .keep = sm.release(7, healthy: true, now: 0) else { return XCTFail("expected keep") }
        guard case .use(let reused) = sm.acquire() else { return XCTFail("expected use") }
        XCTAssertEqual(reused, 7)
    }

    func testBrokenConnectionsFreeTheirSlot() {
        var sm = machine(max: 1)
        _ = sm.acquire()
        guard case .close(let closed) = sm.release(1, healthy: false, now: 0) else { return XCTFail("expected close") }
        XCTAssertEqual(closed, 1)
        XCTAssertEqual(sm.totalCount, 0)
        guard case .connect = sm.acquire() else { return XCTFail("expected connect") }
    }

    func testFailedConnectFreesTheSlot() {
        var sm = machine(max: 1)
        _ = sm.acquire()
        sm.connectFailed()
        XCTAssertEqual(sm.totalCount, 0)
        guard case .connect = sm.acquire() else { return XCTFail("expected connect") }
    }

    func testReusesTheMostRecentlyReleased() {
        var sm = machine(max: 3)
        _ = sm.acquire(); _ = sm.acquire()
        _ = sm.release(1, healthy: true, now: 1)
        _ = sm.release(2, healthy: true, now: 2)
        guard case .use(let c) = sm.acquire() else { return XCTFail("expected use") }
        XCTAssertEqual(c, 2)
    }

    func testIdleExpiryKeepsTheMinimum() {
        var sm = machine(min: 1, max: 3, idle: 10)
        _ = sm.acquire(); _ = sm.acquire(); _ = sm.acquire()
        _ = sm.release(1, healthy: true, now: 0)
        _ = sm.release(2, healthy: true, now: 5)
        _ = sm.release(3, healthy: true, now: 6)
        XCTAssertEqual(sm.expireIdle(now: 9), [])
        XCTAssertEqual(sm.expireIdle(now: 15.5), [1, 2])
        XCTAssertEqual(sm.expireIdle(now: 100), [])  // the minimum stays
        XCTAssertEqual(sm.totalCount, 1)
    }

    func testReserveMinimumCountsMissingConnections() {
        var sm = machine(min: 2, max: 4)
        XCTAssertEqual(sm.reserveMinimum(), 2)
        XCTAssertEqual(sm.busyCount, 2)
        XCTAssertEqual(sm.reserveMinimum(), 0)
    }

    func testCloseReturnsIdleAndClosesTheRestOnRelease() {
        var sm = machine(max: 3)
        _ = sm.acquire(); _ = sm.acquire()
        _ = sm.release(1, healthy: true, now: 0)
        XCTAssertEqual(sm.close(), [1])
        guard case .closed = sm.acquire() else { return XCTFail("expected closed") }
        guard case .close(2) = sm.release(2, healthy: true, now: 0) else { return XCTFail("expected close") }
        XCTAssertEqual(sm.totalCount, 0)
    }

    func testConnectFinishingAfterCloseIsClosed() {
        var sm = machine(max: 1)
        _ = sm.acquire()
        _ = sm.close()
        guard case .close(5) = sm.connected(5) else { return XCTFail("expected close") }
        XCTAssertEqual(sm.totalCount, 0)
    }

    func testLimitsAreClamped() {
        let limits = PoolStateMachine<Int>.Limits(minConnections: 9, maxConnections: 0, idleTimeout: 1)
        XCTAssertEqual(limits.maxConnections, 1)
        XCTAssertEqual(limits.minConnections, 1)
    }
}
