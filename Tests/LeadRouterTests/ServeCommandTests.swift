import Foundation
import XCTest

/// `leadrouter serve` as a process: config file + flag + environment, /healthz over a real
/// socket, then SIGTERM → graceful stop with exit status 0.
final class ServeCommandTests: XCTestCase {
    private var binary: URL {
        // The test executable (…/debug/leadrouterPackageTests.xctest) sits next to the products.
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    func testServeAnswersHealthzAndStopsOnSIGTERM() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("lr-serve-\(UUID().uuidString).yaml")
        try "server:\n  port: 1\nlogging:\n  level: error\n".write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }

        // serve needs its database and ruleset (issue 5): a fresh database, migrated by --migrate.
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }

        let process = Process()
        process.executableURL = binary
        // The file says port 1 and level error (which would hide the `listening` line), the flag
        // says port 0 (any), the environment says info.
        process.arguments = ["serve", "--config", config.path, "--port", "0", "--migrate",
                             "--rules", repositoryRoot.appendingPathComponent("config/segments.yaml").path,
                             "--migrations-dir", repositoryRoot.appendingPathComponent("migrations").path]
        process.environment = ["LEADROUTER_LOG_LEVEL": "info", "LEADROUTER_HOST": "127.0.0.1", "DATABASE_URL": databaseURL]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // A watchdog: if the expected line never comes, the blocking read below ends at EOF.
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) { if process.isRunning { process.terminate() } }

        let (port, firstLines) = Self.readPort(errors)
        var log = firstLines
        let bound = try XCTUnwrap(port, "no 'listening' line in: \(log)")
        XCTAssertNotEqual(bound, 1, "the flag overrides the file")
        XCTAssertTrue(log.contains("listening"), "the environment overrides the file's log level")

        let (status, data) = try get(port: bound, path: "/healthz")
        XCTAssertEqual(status, 200)
        let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertEqual(body?["status"] as? String, "ok")
        XCTAssertNotNil(body?["version"] as? String)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        log += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(log.contains("stopped"), log)
    }

    /// The port of the `listening` line on `errors` (within 10 s) and what was read so far.
    private static func readPort(_ errors: Pipe) -> (Int?, String) {
        var log = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
            if let range = log.range(of: #"port=(\d+)"#, options: .regularExpression) {
                return (Int(log[range].dropFirst("port=".count)), log)
            }
        }
        return (nil, log)
    }

    /// The binary copied alone into an empty directory (no migrations/, no config/): `migrate`
    /// applies the migrations it carries, `serve` loads the sample ruleset it carries, and
    /// `--version` and `/healthz` name the git revision.
    func testABinaryCopiedAloneMigratesAndServes() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lr-alone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = directory.appendingPathComponent("leadrouter")
        try FileManager.default.copyItem(at: binary, to: alone)
        // Not the Citus tests' migrated template: the binary migrates (and on Citus distributes) an empty database.
        let databaseURL = try TestDatabases.create(fromTemplate: false)
        defer { TestDatabases.drop(databaseURL) }
        func run(_ arguments: [String]) throws -> (Int32, String) {
            try runToEnd(alone, arguments, environment: ["DATABASE_URL": databaseURL], inherit: false, directory: directory)
        }
        let version = try run(["--version"])
        XCTAssertNotNil(version.1.range(of: #"^0\.1\.0 \(git [0-9a-z.+-]+\)\n$"#, options: .regularExpression), version.1)
        let migrated = try run(["migrate"])
        XCTAssertEqual(migrated.0, 0, migrated.1)
        XCTAssertTrue(migrated.1.contains("applied 0001_schema_v1.sql"), migrated.1)
        let status = try run(["migrate", "--status"])
        XCTAssertFalse(status.1.split(separator: "\n").contains { !$0.hasPrefix("applied") }, status.1)

        // No --rules, no --migrations-dir, nothing beside the binary: what it carries.
        let (process, bound) = try ServeNode.start(binary: alone, databaseURL: databaseURL, arguments: ["serve", "--port", "0", "--migrate"],
                                                   directory: directory)
        defer { if process.isRunning { process.terminate() } }
        let (code, data) = try get(port: bound, path: "/healthz")
        XCTAssertEqual(code, 200)
        let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertEqual(body?["version"] as? String, version.1.trimmingCharacters(in: .whitespacesAndNewlines))
        let (openAPIStatus, document) = try get(port: bound, path: "/openapi.yaml")
        XCTAssertEqual(openAPIStatus, 200)
        XCTAssertTrue(String(decoding: document, as: UTF8.self).hasPrefix("openapi: 3.1.0"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    /// A plain GET over a loopback socket; returns the status code and the body.
    private func get(port: Int, path: String) throws -> (Int, Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(rc, 0)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        XCTAssertEqual(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, request.count)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.range(of: "\r\n\r\n").map { Data(text[$0.upperBound...].utf8) } ?? Data()
        return (status, body)
    }
}
