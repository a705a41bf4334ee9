import Foundation
import Postgres
import XCTest

/// LISTEN/NOTIFY: delivery to subscribers, dynamic subscriptions, and re-LISTEN after the
/// listening backend is terminated.
final class ListenerTests: XCTestCase {
    /// Collects notifications from the listener thread; `next` waits for one.
    final class Inbox: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [PostgresNotification] = []

        func add(_ n: PostgresNotification) {
            condition.lock()
            items.append(n)
            condition.signal()
            condition.unlock()
        }

        func next(timeout: Double = 10) -> PostgresNotification? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while items.isEmpty { if !condition.wait(until: deadline) { break } }
            return items.isEmpty ? nil : items.removeFirst()
        }
    }

    private func makeListener() throws -> PostgresListener {
        let listener = try PostgresListener(
            configuration: PostgresConfiguration(url: try TestDatabase.url(), applicationName: "listener-test"),
            logger: TestDatabase.logger, initialBackoff: 0.02, maxBackoff: 0.5)
        addTeardownBlock { listener.stop() }
        return listener
    }

    func testDeliversToSubscribersOfTheChannel() throws {
        let listener = try makeListener()
        let leads = Inbox(), queues = Inbox(), mixed = Inbox()
        listener.subscribe("lead_events") { leads.add($0) }
        listener.subscribe("queue_events") { queues.add($0) }
        listener.subscribe("Mixed \"Case\"") { mixed.add($0) }
        listener.start()
        XCTAssertTrue(listener.waitUntilListening(timeout: 10))
        let sender = try TestDatabase.connect()
        try sender.notify(channel: "lead_events", payload: "lead-1 ✓")
        try sender.notify(channel: "queue_events", payload: "q")
        try sender.notify(channel: "Mixed \"Case\"", payload: "m")
        let first = leads.next()
        XCTAssertEqual(first?.channel, "lead_events")
        XCTAssertEqual(first?.payload, "lead-1 ✓")
        XCTAssertEqual(first?.senderPID, sender.backendPID)
        XCTAssertEqual(queues.next()?.payload, "q")
        XCTAssertEqual(mixed.next()?.payload, "m")
        // Notifications inside a transaction arrive on commit, in order.
        try sender.withTransaction { tx in
            for i in 0..<3 { try tx.notify(channel: "lead_events", payload: "tx-\(i)") }
        }
        XCTAssertEqual((0..<3).compactMap { _ in leads.next()?.payload }, ["tx-0", "tx-1", "tx-2"])
    }

    func testSubscribingWhileRunningAndUnsubscribing() throws {
        let listener = try makeListener()
        let inbox = Inbox()
        listener.start()
        XCTAssertTrue(listener.waitUntilListening(timeout: 10))
        let subscription = listener.subscribe("late") { inbox.add($0) }
        let sender = try TestDatabase.connect()
        // The LISTEN happens on the listener thread; wait until the server lists it.
        let deadline = Date(timeIntervalSinceNow: 10)
        var got: PostgresNotification?
        while got == nil, Date() < deadline {
            try sender.notify(channel: "late", payload: "hello")
            got = inbox.next(timeout: 0.1)
        }
        XCTAssertEqual(got?.payload, "hello")
        listener.unsubscribe(subscription)
        try sender.notify(channel: "late", payload: "ignored")
        XCTAssertNil(inbox.next(timeout: 0.3))
    }

    func testRelistensAfterTheBackendIsTerminated() throws {
        let listener = try makeListener()
        let inbox = Inbox()
        listener.subscribe("lead_events") { inbox.add($0) }
        listener.start()
        XCTAssertTrue(listener.waitUntilListening(generation: 1, timeout: 10))
        let sender = try TestDatabase.connect()
        try sender.notify(channel: "lead_events", payload: "before")
        XCTAssertEqual(inbox.next()?.payload, "before")

        let pid = try XCTUnwrap(listener.backendPID)
        try TestDatabase.terminate([pid])
        XCTAssertTrue(listener.waitUntilListening(generation: 2, timeout: 10))
        XCTAssertNotEqual(listener.backendPID, pid)
        try sender.notify(channel: "lead_events", payload: "after")
        XCTAssertEqual(inbox.next()?.payload, "after")
    }

    func testStopEndsTheThreadAndClosesTheConnection() throws {
        let listener = try makeListener()
        listener.subscribe("x") { _ in }
        listener.start()
        XCTAssertTrue(listener.waitUntilListening(timeout: 10))
        let pid = try XCTUnwrap(listener.backendPID)
        listener.stop()
        let admin = try TestDatabase.connect()
        let deadline = Date(timeIntervalSinceNow: 10)
        var alive = 1
        while alive > 0, Date() < deadline {
            alive = try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").scalar(Int.self)
            if alive > 0 { usleep(10_000) }
        }
        XCTAssertEqual(alive, 0)
        XCTAssertNil(listener.backendPID)
    }
}
