import Foundation
import XCTest

/// Runs a program to its end; its exit status and its output (stdout and stderr together).
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Skips the test when python3 cannot import `module` (scripts/test.sh installs `package` from PyPI).
func requirePythonModule(_ module: String, package: String) throws {
    guard try runProcess("/usr/bin/env", ["python3", "-c", "import \(module)"]).status == 0 else {
        throw XCTSkip("\(package) is not installed (pip install \(package))")
    }
}

/// Runs a Python client `script` with argv `[base URL of service, its ingest key]`; fails the
/// test unless it exits 0 and prints "sent".
func runPythonClient(_ script: String, against service: TestService, file: StaticString = #filePath, line: UInt = #line) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lr-client-\(UUID().uuidString).py")
    try script.write(to: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: path) }
    let result = try runProcess("/usr/bin/env", ["python3", path.path, "http://127.0.0.1:\(service.port)", service.ingestKey])
    XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
    XCTAssertTrue(result.output.contains("sent"), result.output, file: file, line: line)
}

/// The Python client tests send one message as RudderStack's SDKs queue it offline: an
/// `originalTimestamp` an hour before the client's `sentAt`, no `timestamp`. Segment's skew
/// correction dates it received − (sentAt − originalTimestamp): an hour before the test clock.
func assertDatedAnHourBeforeReceipt(_ messageId: String, service: TestService, file: StaticString = #filePath, line: UInt = #line) throws {
    let now = service.clock.now
    XCTAssertEqual(try service.count("""
        SELECT count(*) FROM events WHERE message_id = '\(messageId)'
        AND occurred_at BETWEEN '\(iso(now.addingTimeInterval(-3660)))' AND '\(iso(now.addingTimeInterval(-3540)))'
        """), 1, "originalTimestamp only: received − (sentAt − originalTimestamp)", file: file, line: line)
}
