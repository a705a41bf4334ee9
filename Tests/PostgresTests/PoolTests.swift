import Essentials
import Foundation
import Postgres
import Synchronization
import XCTest

/// The pool against the real server: exhaustion, broken connections, many threads.
final class PoolTests: XCTestCase {
    private func pool(min: Int = 0, max: Int, acquireTimeout: Double = 5, idleTimeout: Double = 300) throws -> PostgresPool {
        PostgresPool(
            configuration: PostgresConfiguration(url: try TestDatabase.url(), applicationName: "pool-test"),
            settings: .init(minConnections: min, maxConnections: max, acquireTimeout: acquireTimeout, idleTimeout: idleTimeout),
            logger: TestDatabase.logger)
    }

    func testExhaustionGivesTheTimeoutError() throws {
        let pool = try pool(max: 2, acquireTimeout: 0.2)
        let a = try pool.acquire()
        let b = try pool.acquire()
        let started = Date()
        XCTAssertThrowsError(try pool.acquire()) { XCTAssertEqual(($0 as? PostgresError)?.code, .acquireTimeout) }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.2)
        pool.release(a)
        let c = try pool.acquire()
        XCTAssertEqual(c.backendPID, a.backendPID)  // the released one is reused
        pool.release(b)
        pool.release(c)
        XCTAssertEqual(pool.statistics.total, 2)
    }

    func testWaiterGetsAConnectionReleasedByAnotherThread() throws {
        let pool = try pool(max: 1, acquireTimeout: 5)
        let held = try pool.acquire()
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Int?>(nil)
        Thread.detachNewThread {
            let n = try? pool.query("SELECT 41 + 1 AS n").scalar(Int.self)
            result.withLock { $0 = n }
            done.signal()
        }
        usleep(50_000)
        pool.release(held)
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(result.withLock { $0 }, 42)
    }

    func testRecoversAfterEveryPooledBackendIsTerminated() throws {
        let pool = try pool(min: 4, max: 4)
        try pool.prewarm()
        XCTAssertEqual(pool.statistics.idle, 4)
        let held = try (0..<4).map { _ in try pool.acquire() }
        let pids = held.map(\.backendPID)
        held.forEach { pool.release($0) }
        try TestDatabase.terminate(pids)
        for i in 0..<8 {
            XCTAssertEqual(try pool.query("SELECT \(i) AS n").scalar(Int.self), i)
        }
        let fresh = try pool.withConnection { $0.backendPID }
        XCTAssertFalse(pids.contains(fresh))
        // A connection that breaks while lent out is thrown away on release.
        let lent = try pool.acquire()
        try TestDatabase.terminate([lent.backendPID])
        XCTAssertThrowsError(try lent.query("SELECT 1")) { XCTAssertEqual(($0 as? PostgresError)?.code, .connectionLost) }
        pool.release(lent)
        XCTAssertEqual(try pool.query("SELECT 1 AS n").scalar(Int.self), 1)
        XCTAssertLessThanOrEqual(pool.statistics.total, 4)
    }

    func testRetryOnConnectionLossForIdempotentReads() throws {
        let pool = try pool(max: 1)
        let conn = try pool.acquire()
        let pid = conn.backendPID
        pool.release(conn)
        // Kill it and query at once: whether the health check or the query notices, the read succeeds.
        let admin = try TestDatabase.connect()
        try admin.query("SELECT pg_terminate_backend(\(pid))")
        XCTAssertEqual(try pool.query("SELECT 7 AS n", retryOnConnectionLoss: true).scalar(Int.self), 7)
    }

    func testThirtyTwoThreadsThousandQueriesEachNoneLostOrCrossed() throws {
        let pool = try pool(max: 8)
        let threads = 32, perThread = 1_000
        let ok = Atomic<Int>(0)
        let wrong = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for i in 0..<perThread {
                    let expected = t * 1_000_000 + i
                    do {
                        let row = try pool.query("SELECT \(t) * 1000000 + \(i) AS n, \("thread-\(t)") AS tag").first!
                        if try row.decode(Int.self, "n") == expected, try row.decode(String.self, "tag") == "thread-\(t)" {
                            ok.add(1, ordering: .relaxed)
                        } else {
                            wrong.add(1, ordering: .relaxed)
                        }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 300), .success)
        XCTAssertEqual(ok.load(ordering: .relaxed), threads * perThread)
        XCTAssertEqual(wrong.load(ordering: .relaxed), 0)
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        XCTAssertLessThanOrEqual(pool.statistics.total, 8)
    }

    func testIdleConnectionsAboveMinimumAreClosed() throws {
        let pool = try pool(min: 1, max: 4, idleTimeout: 0.2)
        let held = try (0..<3).map { _ in try pool.acquire() }
        held.forEach { pool.release($0) }
        XCTAssertEqual(pool.statistics.total, 3)
        let deadline = Date(timeIntervalSinceNow: 10)
        while pool.statistics.total > 1, Date() < deadline { usleep(20_000) }
        XCTAssertEqual(pool.statistics.total, 1)
    }

    func testClosedPoolRefusesAcquire() throws {
        let pool = try pool(max: 2)
        XCTAssertEqual(try pool.query("SELECT 1 AS n").scalar(Int.self), 1)
        pool.close()
        XCTAssertThrowsError(try pool.acquire()) { XCTAssertEqual(($0 as? PostgresError)?.code, .closed) }
    }
}
