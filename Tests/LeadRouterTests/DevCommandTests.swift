import Foundation
import XCTest

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
        defer { try? FileManager.default.removeItem(at: dataDir) }

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
}
