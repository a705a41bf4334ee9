import Essentials
import Foundation
import Logging

/// A private PostgreSQL cluster for `leadrouter dev`: created on first use in a directory of
/// its own, started, stopped when the service stops. It uses the server binaries of the
/// machine's `postgresql` package; when running as root it runs them as the `postgres` user,
/// because initdb refuses to run as root.
///
/// It listens on a Unix socket only (`listen_addresses=''`), whose file is inside the data
/// directory: that directory is mode 0700 (initdb makes it so and the server refuses to start
/// otherwise), so only its owner (and root) can connect, although the cluster trusts every
/// local connection as the superuser `leadrouter`. No TCP port is open, so no other user of
/// the machine, container or network can reach it; there is no password to store or leak, and a
/// cluster created by an earlier version (`-A trust`, TCP) becomes private on its next start
/// without any change to its files. docs/dev.md says why this and not a password.
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

    /// The libpq URL of the running cluster: its Unix socket (in the data directory) and the port
    /// number that names the socket file.
    public var url: String {
        let host = dataDirectory.path.addingPercentEncoding(withAllowedCharacters: Self.queryValueCharacters) ?? dataDirectory.path
        return "postgresql://leadrouter@/\(database)?host=\(host)&port=\(port)"
    }

    private static let queryValueCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "/-._~"))

    /// Creates the cluster if it does not exist, starts it, and creates the database.
    /// Refuses, changing nothing, a data directory that exists and belongs to another user.
    public func start() throws {
        let fm = FileManager.default
        let socketFile = dataDirectory.appendingPathComponent(".s.PGSQL.65535").path
        guard socketFile.utf8.count < 108 else {  // sun_path is 108 bytes
            throw Failure(description: "the data directory path \(dataDirectory.path) is too long for a Unix socket inside it (at most 90 bytes); pass a shorter --data-dir")
        }
        let owner = runAsPostgresUser ? try Self.postgresUser() : (uid: getuid(), name: Self.userName(getuid()))
        try checkOwnership(expected: owner)
        try fm.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        if runAsPostgresUser {
            // Only the data directory itself, which is new, empty or already postgres's
            // (checkOwnership): never `chown -R` on a path someone passed.
            guard chown(dataDirectory.path, owner.uid, Self.groupID(of: owner.uid)) == 0 else {
                throw Failure(description: "could not give \(dataDirectory.path) to the postgres user: \(String(cString: strerror(errno)))")
            }
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
        // The port only names the socket file (nothing listens on TCP); a free one keeps the
        // name from matching a TCP server a client might reach by mistake.
        port = try Self.freePort()
        try run(binDirectory.appendingPathComponent("pg_ctl").path,
                ["-D", dataDirectory.path, "-l", dataDirectory.appendingPathComponent("server.log").path, "-w", "-t", "60",
                 "-o", "-p \(port) -k \(Self.shellQuoted(dataDirectory.path)) -c listen_addresses='' -c unix_socket_permissions=0700",
                 "start"],
                asPostgres: runAsPostgresUser)
        started = true
        logger.info("private PostgreSQL started", metadata: ["pg.socket": "\(dataDirectory.path)", "pg.port": "\(port)"])
        // createdb fails when the database exists: that is the normal second run.
        let createdb = binDirectory.appendingPathComponent("createdb").path
        _ = try? run(createdb, ["-h", dataDirectory.path, "-p", "\(port)", "-U", "leadrouter", database], asPostgres: runAsPostgresUser)
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

    /// An existing data directory must belong to the user the server runs as; as root, an empty
    /// one of root's (made by `mkdir`, or left by a failed first run) is also accepted, since
    /// handing it to postgres changes nothing of anyone's. Anything else is refused untouched.
    private func checkOwnership(expected: (uid: uid_t, name: String)) throws {
        var info = stat()
        guard lstat(dataDirectory.path, &info) == 0 else {
            if errno == ENOENT { return }  // created below
            throw Failure(description: "cannot inspect \(dataDirectory.path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Failure(description: "refusing to use \(dataDirectory.path) as the PostgreSQL data directory: it exists and is not a directory")
        }
        if info.st_uid == expected.uid { return }
        let empty = ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.path)) ?? ["?"]).isEmpty
        if runAsPostgresUser && info.st_uid == 0 && empty { return }
        throw Failure(description: "refusing to use \(dataDirectory.path) as the PostgreSQL data directory: it exists and belongs to "
            + "\(Self.userName(info.st_uid)) (uid \(info.st_uid)), not \(expected.name); leadrouter dev never changes the owner "
            + "of an existing directory. Pass --data-dir with a new directory (or one owned by \(expected.name)).")
    }

    /// The `postgres` account the server runs as when we are root.
    static func postgresUser() throws -> (uid: uid_t, name: String) {
        guard let entry = getpwnam("postgres") else {
            throw Failure(description: "running as root, but there is no `postgres` user to run PostgreSQL as (install the `postgresql` package)")
        }
        return (entry.pointee.pw_uid, "postgres")
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }

    static func groupID(of uid: uid_t) -> gid_t {
        getpwuid(uid).map { $0.pointee.pw_gid } ?? gid_t(bitPattern: -1)
    }

    /// `'text'` for the shell pg_ctl runs the server through.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

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
