import Foundation
import Logging
import Postgres
import XCTest
@testable import Essentials
@testable import LeadRouterService

/// One log entry, one line: libpq's messages folded, control characters escaped, and repeats of
/// the same failure during an outage counted instead of logged (`LogThrottle`).
final class LogLinesTests: XCTestCase {
    // MARK: - folding and escaping

    func testFoldJoinsLibpqLinesAndDropsIndentation() {
        XCTAssertEqual(OneLine.fold("""
            server closed the connection unexpectedly
            \tThis probably means the server terminated abnormally
            \tbefore or while processing the request.

            """),
            "server closed the connection unexpectedly | This probably means the server terminated abnormally | before or while processing the request.")
        XCTAssertEqual(OneLine.fold("FATAL:  database \"x\" does not exist\nDETAIL:  gone\r\n"),
                       "FATAL:  database \"x\" does not exist | DETAIL:  gone")
        XCTAssertEqual(OneLine.fold("a\tb\u{1b}[31mc"), "a b [31mc")
        XCTAssertEqual(OneLine.fold("  plain  "), "plain")
        XCTAssertEqual(OneLine.fold("\n\n"), "")
    }

    func testEscapeKeepsEverythingButBreaksNoLine() {
        XCTAssertEqual(OneLine.escape("/v1/leads\r\nX-Injected: 1"), "/v1/leads\\r\\nX-Injected: 1")
        XCTAssertEqual(OneLine.escape("a\tb\u{1b}c\u{7f}d\u{2028}"), "a\\tb\\u{1b}c\\u{7f}d\\u{2028}")
        XCTAssertEqual(OneLine.escape("Zürich ✓"), "Zürich ✓")
    }

    func testTheServiceLogHandlerEscapesMessagesAndMetadata() {
        let captured = CapturedLog()
        let logger = Logger(label: "t") { _ in OneLineLogHandler(captured.handler()) }
        logger.error("handler failed\nsecond line", metadata: [
            "path": "/v1/x\n\u{1b}[2J", "error": .stringConvertible(MultiLine()), "list": ["a\nb"],
        ])
        let lines = captured.lines
        XCTAssertEqual(lines.count, 1)
        lines.forEach { assertOneLine($0) }
        XCTAssertTrue(lines[0].contains("handler failed\\nsecond line"), lines[0])
        XCTAssertTrue(lines[0].contains("/v1/x\\n\\u{1b}[2J"), lines[0])
        XCTAssertTrue(lines[0].contains("first\\nsecond"), lines[0])
    }

    private struct MultiLine: CustomStringConvertible, Sendable { var description: String { "first\nsecond" } }

    // MARK: - the throttle

    func testThrottleLogsTheFirstCountsRepeatsAndSummarisesWhenTheWindowEnds() {
        let clock = Locked(100.0)
        let throttle = LogThrottle(window: 10) { clock.withLock { $0 } }
        let refused = LogThrottle.Entry(message: "sweep failed", detail: "connection refused")
        XCTAssertEqual(throttle.record(refused), [.first(refused)])
        for step in 1...5 {
            clock.withLock { $0 = 100 + Double(step) }
            XCTAssertEqual(throttle.record(refused), [], "repeat \(step) is held back")
        }
        clock.withLock { $0 = 109 }
        XCTAssertEqual(throttle.expired(), [], "the window is still open")
        clock.withLock { $0 = 110 }
        XCTAssertEqual(throttle.expired(), [.repeated(refused, count: 5, seconds: 10)])
        XCTAssertEqual(throttle.expired(), [], "summarised once")
        // A new window: the first occurrence is logged again.
        clock.withLock { $0 = 125 }
        XCTAssertEqual(throttle.record(refused), [.first(refused)])
        clock.withLock { $0 = 126 }
        XCTAssertEqual(throttle.record(refused), [])
        // The window ended unseen: the next record brings the summary (over the window, not the
        // time since) before its own first line.
        clock.withLock { $0 = 200 }
        XCTAssertEqual(throttle.record(refused), [.repeated(refused, count: 1, seconds: 10), .first(refused)])
    }

    func testThrottleSummarisesBeforeADistinctMessage() {
        let clock = Locked(0.0)
        let throttle = LogThrottle(window: 10) { clock.withLock { $0 } }
        let lost = LogThrottle.Entry(message: "sweep failed", detail: "connection lost")
        let refused = LogThrottle.Entry(message: "sweep failed", detail: "connection refused")
        XCTAssertEqual(throttle.record(lost), [.first(lost)])
        clock.withLock { $0 = 1 }
        XCTAssertEqual(throttle.record(lost), [])
        XCTAssertEqual(throttle.record(lost), [])
        clock.withLock { $0 = 2 }
        XCTAssertEqual(throttle.record(refused), [.repeated(lost, count: 2, seconds: 2), .first(refused)])
        // Alternating messages stay bounded: both windows are open, repeats are counted.
        clock.withLock { $0 = 3 }
        XCTAssertEqual(throttle.record(lost), [])
        XCTAssertEqual(throttle.record(refused), [])
        XCTAssertEqual(throttle.record(lost), [])
        clock.withLock { $0 = 4 }
        XCTAssertEqual(throttle.flush(), [.repeated(lost, count: 2, seconds: 2), .repeated(refused, count: 1, seconds: 2)])
        XCTAssertEqual(throttle.record(lost), [.first(lost)], "flush closed every window")
    }

    func testThrottleForgetsTheOldestBeyondItsLimit() {
        let throttle = LogThrottle(window: 10, maxEntries: 2) { 0 }
        let entries = (0..<3).map { LogThrottle.Entry(message: "m", detail: "\($0)") }
        for entry in entries { XCTAssertEqual(throttle.record(entry), [.first(entry)]) }
        XCTAssertEqual(throttle.record(entries[0]), [.first(entries[0])], "the oldest was forgotten")
        XCTAssertEqual(throttle.record(entries[2]), [])
    }

    // MARK: - an outage

    /// The database goes away for 3 s while ingest, the sweeper, the queue worker, the listener
    /// and webhook dispatch (every 50 ms) all keep trying: the log stays a few one-line entries.
    func testAnOutageGivesFewOneLineLogEntries() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "outage") { _ in captured.handler() }
        logger.logLevel = .info
        let service = try TestService(test: self, logger: logger) {
            $0.maxDatabaseConnections = 4
            $0.runSweeper = true
            $0.sweeperInterval = 0.05
            $0.queueWorkerInterval = 0.05
            $0.webhooks.enabled = true
            $0.webhooks.pollInterval = 0.05
        }
        let client = try service.client()
        func send(_ i: Int) throws -> Int {
            try client.json("POST", "/v1/track", key: service.ingestKey, [
                "userId": "u-\(i % 3)", "event": "Product Viewed", "messageId": "m-\(i)", "timestamp": iso(service.clock.now)]).status
        }
        XCTAssertEqual(try send(0), 200)
        usleep(300_000)
        let before = captured.lines.count

        let name = String(URLComponents(string: service.url)!.path.dropFirst())
        let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")
        let outageEnds = Date(timeIntervalSinceNow: 3)
        var i = 1, refused = 0
        while Date() < outageEnds {
            if try send(i) == 503 { refused += 1 }
            i += 1
            usleep(20_000)
        }
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        // A handful is proof enough: on a loaded machine a refused request can take 100 ms+.
        XCTAssertGreaterThan(refused, 5, "the outage was seen")
        let deadline = Date(timeIntervalSinceNow: 10)
        while try send(i) != 200, Date() < deadline { usleep(100_000) }
        usleep(500_000)

        let all = Array(captured.lines.dropFirst(before))
        all.forEach { assertOneLine($0) }
        // The access log has one line per request by design; the rest is what the outage caused.
        let lines = all.filter { !$0.hasPrefix("info request ") }
        // Without the throttle: dispatch and lease alone log 2 × 60 lines, sweeper and queue
        // worker 60 each, plus every pooled connect. With it: per loop, one line per distinct
        // error (lost, refused) and a count, plus one notice per killed connection.
        XCTAssertLessThan(lines.count, 30, lines.joined(separator: "\n"))
        XCTAssertNotNil(lines.first { $0.contains("webhook dispatch failed") }, lines.joined(separator: "\n"))
        XCTAssertNotNil(lines.first { $0.contains("sweep failed") }, lines.joined(separator: "\n"))
        print("outage log: \(lines.count) entries (and \(all.count - lines.count) access log lines) for \(refused) refused requests")
    }
}

func assertOneLine(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(text.contains { $0.isNewline }, "not one line: \(text.debugDescription)", file: file, line: line)
    XCTAssertFalse(text.contains("\t"), "a tab: \(text.debugDescription)", file: file, line: line)
}

/// Log entries rendered as one string each (level, message, sorted metadata), for counting.
final class CapturedLog: @unchecked Sendable {
    private let entries = Locked<[String]>([])

    var lines: [String] { entries.withLock { $0 } }

    func handler() -> Handler { Handler(sink: self) }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let (level, message) = (event.level, event.message)
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = "\(level) \(message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.entries.withLock { $0.append(rendered) }
        }
    }
}
