import Foundation

/// Runs `executable` with `arguments` to its end and returns its exit status and its standard
/// output and error together (through a file, so a large output never blocks on a full pipe).
/// `environment` is added to this process's unless `inherit` is false; `directory` is its
/// working directory.
func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], inherit: Bool = true,
              directory: URL? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = inherit ? ProcessInfo.processInfo.environment.merging(environment) { _, new in new } : environment
    if let directory { process.currentDirectoryURL = directory }
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("lr-run-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self))
}
