import Foundation
import XCTest

/// A `leadrouter serve` child process on port 0 with `--migrate` and the sample ruleset, for the
/// multi-node tests (or with `arguments`, in `directory`); returns once it logged the port it
/// listens on.
enum ServeNode {
    static func start(binary: URL, databaseURL: String, arguments: [String]? = nil,
                      directory: URL? = nil) throws -> (process: Process, port: Int) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments ?? ["serve", "--port", "0", "--migrate", "--log-level", "info",
                                          "--rules", repositoryRoot.appendingPathComponent("config/segments.yaml").path,
                                          "--migrations-dir", repositoryRoot.appendingPathComponent("migrations").path]
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ["DATABASE_URL": databaseURL, "LEADROUTER_HOST": "127.0.0.1"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        // A watchdog: a node that never says `listening` is stopped, which ends the blocking read.
        let started = ConcurrentResults<Bool>()
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) {
            if (try? started.values())?.isEmpty ?? true, process.isRunning { process.terminate() }
        }
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
            // swift-log's stream handler writes metadata before the message.
            if let line = log.split(separator: "\n").first(where: { $0.contains("listening") }),
               let portRange = line.range(of: #"port=\d+"#, options: .regularExpression) {
                // Keep draining stderr so the node never blocks on a full pipe.
                errors.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
                started.record { true }
                return (process, Int(line[portRange].dropFirst("port=".count))!)
            }
        }
        process.terminate()
        throw TestClientError(description: "node did not start: \(log)")
    }

    /// A key created through the CLI as an operator would (`keys create`; the key alone on the
    /// last line of its output).
    static func createKey(binary: URL, databaseURL: String, name: String, scopes: String) throws -> String {
        let keys = Process()
        keys.executableURL = binary
        keys.arguments = ["keys", "create", "--name", name, "--scopes", scopes]
        keys.environment = ["DATABASE_URL": databaseURL]
        let out = Pipe()
        keys.standardOutput = out
        try keys.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        keys.waitUntilExit()
        guard keys.terminationStatus == 0, let key = printed.split(separator: "\n").last.map(String.init), key.hasPrefix("lr_") else {
            throw TestClientError(description: "keys create failed: \(printed)")
        }
        return key
    }
}
