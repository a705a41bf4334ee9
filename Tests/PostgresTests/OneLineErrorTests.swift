import Foundation
import Logging
import Postgres
import XCTest

/// libpq writes its messages over several lines (`…failed: Connection refused\n\tIs the server
/// running…`, `server closed the connection unexpectedly\n\tThis probably means…`); every
/// `PostgresError` carries them folded to one line, so each log entry is one line.
final class OneLineErrorTests: XCTestCase {
    func testConnectingToAClosedPortGivesAOneLineError() throws {
        let port = try closedPort()
        XCTAssertThrowsError(try PostgresConnection(
            configuration: PostgresConfiguration(url: "postgresql://nobody@127.0.0.1:\(port)/none"), logger: TestDatabase.logger)
        ) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? PostgresError)?.code, .connectionFailed, text)
            assertOneLine(text)
            // libpq's second line is still there, after the separator.
            XCTAssertTrue(text.contains("Connection refused | Is the server running"), text)
        }
    }

    func testAKilledConnectionGivesAOneLineError() throws {
        let connection = try TestDatabase.connect()
        let pid = try connection.query("SELECT pg_backend_pid()").scalar(Int32.self)
        try TestDatabase.terminate([pid])
        XCTAssertThrowsError(try connection.query("SELECT 1")) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? PostgresError)?.isConnectionError, true, text)
            assertOneLine(text)
            XCTAssertTrue(text.contains(" | "), "libpq's lines are joined, not dropped: \(text)")
        }
    }

    func testAPooledConnectFailureIsLoggedOnceWithACountNotPerAttempt() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "pool-test") { _ in captured.handler() }
        logger.logLevel = .info
        let port = try closedPort()
        let pool = PostgresPool(configuration: PostgresConfiguration(url: "postgresql://nobody@127.0.0.1:\(port)/none"),
                                settings: .init(minConnections: 0, maxConnections: 2, acquireTimeout: 1), logger: logger)
        defer { pool.close() }
        for _ in 0..<50 { XCTAssertThrowsError(try pool.withConnection { _ in }) }
        let lines = captured.lines
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("cannot open a database connection") == true, "\(lines)")
        lines.forEach { assertOneLine($0) }
    }

    /// A port on 127.0.0.1 nobody listens on.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw XCTSkip("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

func assertOneLine(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(text.contains { $0.isNewline }, "not one line: \(text.debugDescription)", file: file, line: line)
    XCTAssertFalse(text.contains("\t"), "a tab: \(text.debugDescription)", file: file, line: line)
}

/// Log entries rendered as one string each (message and metadata), for counting.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }

    func append(_ line: String) {
        lock.lock()
        entries.append(line)
        lock.unlock()
    }

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
            sink.append("\(level) \(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}
