import Essentials
import Foundation
import Logging

/// A private PostgreSQL cluster for `leadrouter dev`: created on first use in a directory of
/// its own, started on a free loopback port, stopped when the service stops. It uses the
/// server binaries of the machine's `postgresql` package; when running as root it runs them as
/// the `postgres` user, because initdb refuses to run as root.
public final class EmbeddedPostgres: @unchecked Sendable {
    /// Why the private cluster could not be made or started; `description` says what to do.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let dataDirectory: URL
    public private(set) var port: Int = 0
    public let database = "leadrouter"
    private let binDirectory: URL
    private let runAsPostgresUser: Bool
    private let logger: Logger
    private var started = false

    /// Finds the server binaries; nothing is started yet.
    public init(dataDirectory: URL, logger: Logger) throws {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.logger = logger
        self.runAsPostgresUser = getuid() == 0
        guard let bin = Self.findBinDirectory() else {
            throw Failure(description: "no PostgreSQL server found under /usr/lib/postgresql: install the `postgresql` package (scripts/dev.sh does it)")
        }
        binDirectory = bin
    }

    /// The libpq URL of the running cluster.
    public var url: String { "postgresql://leadrouter@127.0.0.1:\(port)/\(database)" }

    /// Creates the cluster if it does not exist, starts it, and creates the database.
    public func start() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        if runAsPostgresUser {
            try run("/bin/chown", ["-R", "postgres:postgres", dataDirectory.path], asPostgres: false)
            guard (try? run("/usr/bin/test", ["-w", dataDirectory.path], asPostgres: true)) != nil else {
                throw Failure(description: "the postgres user cannot write \(dataDirectory.path) (a parent directory is private?); pass --data-dir with a path it can reach, e.g. /tmp/leadrouter-dev")
            }
        }
        let versionFile = dataDirectory.appendingPathComponent("PG_VERSION")
        if !fm.fileExists(atPath: versionFile.path) {
            logger.info("creating a private PostgreSQL cluster", metadata: ["pg.data": "\(dataDirectory.path)"])
            try run(binDirectory.appendingPathComponent("initdb").path,
                    ["-D", dataDirectory.path, "-U", "leadrouter", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
                    asPostgres: runAsPostgresUser)
        }
        port = try Self.freePort()
        try run(binDirectory.appendingPathComponent("pg_ctl").path,
                ["-D", dataDirectory.path, "-l", dataDirectory.appendingPathComponent("server.log").path, "-w", "-t", "60",
                 "-o", "-p \(port) -k \(dataDirectory.path) -c listen_addresses=127.0.0.1", "start"],
                asPostgres: runAsPostgresUser)
        started = true
        logger.info("private PostgreSQL started", metadata: ["pg.port": "\(port)"])
        // createdb fails when the database exists: that is the normal second run.
        let createdb = binDirectory.appendingPathComponent("createdb").path
        _ = try? run(createdb, ["-h", "127.0.0.1", "-p", "\(port)", "-U", "leadrouter", database], asPostgres: runAsPostgresUser)
    }

    /// Stops the cluster (fast shutdown: open sessions are rolled back). Safe to call twice.
    public func stop() {
        guard started else { return }
        started = false
        do {
            try run(binDirectory.appendingPathComponent("pg_ctl").path,
                    ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"], asPostgres: runAsPostgresUser)
            logger.info("private PostgreSQL stopped")
        } catch {
            logger.error("could not stop the private PostgreSQL", metadata: ["error": "\(error)"])
        }
    }

    deinit { stop() }

    /// The newest `/usr/lib/postgresql/<version>/bin` that has initdb.
    static func findBinDirectory() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap { Int($0) }.sorted(by: >)
            .map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) }
    }

    /// A loopback port nobody listens on right now (bind to port 0, read it back, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Runs a command to completion (as `postgres` via runuser when asked); throws with its output.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws -> String {
        let (program, args) = asPostgres
            ? ("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
            : (executable, arguments)
        let result = try ChildProcess.run(program, args)
        guard result.status == 0 else {
            throw Failure(description: "\((executable as NSString).lastPathComponent) failed (exit \(result.status)): \(result.output.trimmingWhitespace())")
        }
        return result.output
    }
}
