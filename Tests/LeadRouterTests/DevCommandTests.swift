import Foundation
import XCTest
@testable import LeadRouterService

/// `leadrouter dev` as a process: a private PostgreSQL is created and started, the schema
/// migrated, a key with every scope printed alone on its line, the API served; SIGINT stops the
/// server and then the private PostgreSQL.
final class DevCommandTests: XCTestCase {
    func testDevServesWithAPrivateDatabaseAndStopsItOnSIGINT() throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("leadrouter")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("leadrouter is not built") }
        guard !(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")).isEmpty else {
            throw XCTSkip("no PostgreSQL server binaries")
        }
        // Under /tmp so that the postgres user (when we are root) can reach it.
        let dataDir = URL(fileURLWithPath: "/tmp/lr-dev-test-\(UUID().uuidString.prefix(8))")
        defer {
            try? FileManager.default.removeItem(at: dataDir)
            try? FileManager.default.removeItem(atPath: dataDir.path + "-dev-key")
        }

        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = repositoryRoot
        process.arguments = ["dev", "--port", "0", "--data-dir", dataDir.path, "--log-level", "warning"]
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "DATABASE_URL" }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.interrupt(); process.waitUntilExit() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90) { if process.isRunning { process.interrupt() } }

        var text = ""
        while !(text.contains("API key") && text.hasSuffix("\n") && text.split(separator: "\n").count >= 4) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let lines = text.split(separator: "\n").map(String.init)
        let key = try XCTUnwrap(lines.last, text)
        XCTAssertTrue(key.hasPrefix("lr_"), text)
        let portText = try XCTUnwrap(text.range(of: #"127\.0\.0\.1:\d+ "#, options: .regularExpression).map { text[$0] }, text)
        let port = try XCTUnwrap(Int(portText.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)))

        let client = try TestHTTPClient(port: port)
        XCTAssertEqual(try client.json("GET", "/readyz", key: nil).status, 200)
        let decision = try client.json("POST", "/v1/events", key: key, ["userId": "dev-1", "event": "Pricing Requested"])
        XCTAssertEqual(decision.status, 200, decision.text)
        XCTAssertEqual(decision.json["status"] as? String, "qualified")
        XCTAssertEqual(try client.json("GET", "/v1/leads?user_id=dev-1", key: key).status, 200, "the dev key has every scope")
        let hook = try client.json("POST", "/v1/subscriptions", key: key, ["url": "http://127.0.0.1:9/hook", "topics": ["lead.routed"]])
        XCTAssertEqual(hook.status, 201, "dev lets webhooks go to private networks: \(hook.text)")

        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("postmaster.pid").path),
                       "the private PostgreSQL is stopped")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("PG_VERSION").path))
    }

    /// The private PostgreSQL has no TCP port and its socket is reachable by its owner only; the
    /// key is kept 0600 beside the data directory and reused, and replaced once it stops working.
    func testDevKeepsItsDatabasePrivateAndReusesItsKey() throws {
        let binary = try leadrouterBinary()
        let dataDir = URL(fileURLWithPath: "/tmp/lr-dev-test-\(UUID().uuidString.prefix(8))")
        let keyFile = URL(fileURLWithPath: dataDir.path + "-dev-key")
        defer {
            try? FileManager.default.removeItem(at: dataDir)
            try? FileManager.default.removeItem(at: keyFile)
        }

        let first = try DevRun(binary: binary, dataDir: dataDir)
        XCTAssertTrue(first.text.contains("new, saved in \(keyFile.path)"), first.text)
        XCTAssertEqual(try String(contentsOf: keyFile, encoding: .utf8), first.key + "\n")
        XCTAssertEqual(try mode(keyFile), 0o600, "the key file holds a credential")
        XCTAssertEqual(try mode(dataDir), 0o700, "the socket lives in a directory only its owner can enter")

        // The URL names a Unix socket; on TCP nothing answers, with or without a password.
        let url = try XCTUnwrap(first.text.range(of: #"postgresql://\S+"#, options: .regularExpression).map { String(first.text[$0]) })
        let components = try XCTUnwrap(URLComponents(string: url))
        XCTAssertEqual(components.queryItems?.first { $0.name == "host" }?.value, dataDir.path)
        let pgPort = try XCTUnwrap(components.queryItems?.first { $0.name == "port" }?.value.flatMap { Int($0) })
        XCTAssertEqual(try psql(url, "SHOW listen_addresses"), "", "no TCP listener at all")
        XCTAssertThrowsError(try psql("postgresql://leadrouter@127.0.0.1:\(pgPort)/leadrouter", "SELECT 1"))
        XCTAssertEqual(tcpConnect(port: pgPort), ECONNREFUSED)
        if getuid() == 0 {
            // Another local user cannot reach the socket although the cluster trusts local connections.
            XCTAssertThrowsError(try psql(url, "SELECT 1", asUser: "nobody"))
        }
        XCTAssertEqual(try first.client().json("GET", "/v1/segments", key: first.key).status, 200)
        try first.stop()

        // Second run: the same key, still working.
        let second = try DevRun(binary: binary, dataDir: dataDir)
        XCTAssertEqual(second.key, first.key)
        XCTAssertTrue(second.text.contains("kept in \(keyFile.path)"), second.text)
        XCTAssertEqual(try second.client().json("GET", "/v1/segments", key: second.key).status, 200)
        try second.stop()

        // A stored key the database does not know (recreated database): a new one replaces it.
        try "lr_0000000000000000000000000000000000000000\n".write(to: keyFile, atomically: false, encoding: .utf8)
        chmod(keyFile.path, 0o644)
        let third = try DevRun(binary: binary, dataDir: dataDir)
        XCTAssertNotEqual(third.key, "lr_0000000000000000000000000000000000000000")
        XCTAssertNotEqual(third.key, first.key)
        XCTAssertTrue(third.text.contains("new, saved in"), third.text)
        XCTAssertEqual(try String(contentsOf: keyFile, encoding: .utf8), third.key + "\n")
        XCTAssertEqual(try mode(keyFile), 0o600)
        XCTAssertEqual(try third.client().json("GET", "/v1/segments", key: third.key).status, 200)
        try third.stop()
    }

    /// A listen address other machines can reach needs --allow-remote; nothing is created first.
    func testDevRefusesANonLoopbackHostWithoutAllowRemote() throws {
        let binary = try leadrouterBinary()
        let dataDir = URL(fileURLWithPath: "/tmp/lr-dev-test-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dataDir) }
        for host in ["0.0.0.0", "::", "192.0.2.10", "example.com"] {
            let process = Process()
            process.executableURL = binary
            process.currentDirectoryURL = repositoryRoot
            process.arguments = ["dev", "--host", host, "--port", "0", "--data-dir", dataDir.path]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = Pipe()
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 64, text)
            XCTAssertTrue(text.contains("--host \(host) is not a loopback address"), text)
            XCTAssertTrue(text.contains("--allow-remote"), text)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dataDir.path), "nothing is created")
        }
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"] {
            XCTAssertTrue(DevSafety.isLoopback(host: host), host)
        }
        XCTAssertFalse(DevSafety.isLoopback(host: "::ffff:10.0.0.1"))
    }

    // MARK: - helpers

    private func leadrouterBinary() throws -> URL {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("leadrouter")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("leadrouter is not built") }
        guard EmbeddedPostgres.findBinDirectory() != nil else { throw XCTSkip("no PostgreSQL server binaries") }
        return binary
    }

    private func mode(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// psql (as `user` through runuser when given); throws when it fails.
    private func psql(_ url: String, _ sql: String, asUser user: String? = nil) throws -> String {
        let psql = EmbeddedPostgres.findBinDirectory()!.appendingPathComponent("psql").path
        let process = Process()
        let arguments = ["-X", "-q", "-t", "-A", "-d", url, "-c", sql]
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", psql] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: psql)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EmbeddedPostgres.Failure(description: "psql exit \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// errno of a TCP connect to 127.0.0.1:`port` (0 when it connected).
    private func tcpConnect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 ? 0 : errno
    }
}

/// One `leadrouter dev` process, read up to the key it prints last.
private final class DevRun {
    let process = Process()
    let text: String
    let key: String
    let port: Int

    init(binary: URL, dataDir: URL) throws {
        process.executableURL = binary
        process.currentDirectoryURL = repositoryRoot
        process.arguments = ["dev", "--port", "0", "--data-dir", dataDir.path, "--log-level", "warning"]
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "DATABASE_URL" }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let process = self.process
        DispatchQueue.global().asyncAfter(deadline: .now() + 90) { if process.isRunning { process.interrupt() } }
        var text = ""
        while !(text.contains("API key") && text.hasSuffix("\n") && text.split(separator: "\n").count >= 4) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        self.text = text
        key = text.split(separator: "\n").last.map(String.init) ?? ""
        guard key.hasPrefix("lr_"),
              let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":").last ?? "")
        else {
            if process.isRunning { process.interrupt(); process.waitUntilExit() }
            throw EmbeddedPostgres.Failure(description: "leadrouter dev did not start: \(text)")
        }
        self.port = port
    }

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: port) }

    func stop() throws {
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    deinit { if process.isRunning { process.interrupt(); process.waitUntilExit() } }
}
