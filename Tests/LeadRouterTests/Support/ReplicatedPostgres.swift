import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// A primary and one streaming standby (`pg_basebackup -R`) of the machine's PostgreSQL, each its
/// own server process on 127.0.0.1, in a temp dir, for the failover and read-replica tests.
/// Run as `postgres` when the tests run as root (initdb refuses root). `stop()` removes it all.
///
/// `synchronous: true` makes the standby synchronous (`synchronous_standby_names` on the
/// primary names it): a COMMIT returns only once the standby has the WAL. The standby itself has
/// `synchronous_standby_names` empty, so once promoted it commits alone (docs/scale-out.md says
/// why an operator must do the same). `applyDelay` sets `recovery_min_apply_delay` on the standby.
final class ReplicatedPostgres: @unchecked Sendable {
    let directory: URL
    let primaryPort: Int
    let standbyPort: Int
    private let bin: URL
    private let asPostgres = getuid() == 0

    /// Creates and starts both servers; returns once the standby streams (and, when
    /// synchronous, is the primary's synchronous standby).
    /// `statementStats` loads `pg_stat_statements` on both servers (utility statements not
    /// tracked), so a test can count the statements each one ran (`statementCalls`).
    init(synchronous: Bool, applyDelay: String? = nil, statementStats: Bool = false) throws {
        guard let bin = EmbeddedPostgres.findBinDirectory() else { throw XCTSkip("no PostgreSQL server binaries") }
        self.bin = bin
        directory = URL(fileURLWithPath: "/tmp/lr-repl-\(UUID().uuidString.prefix(8))")
        primaryPort = try Self.freePort()
        standbyPort = try Self.freePort()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if asPostgres { _ = try runProcess("/usr/bin/chown", ["postgres", directory.path]) }
        try pg("initdb", ["-D", path("primary"), "-U", "leadrouter", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        try appendConfig("primary", [
            "port = \(primaryPort)", "listen_addresses = '127.0.0.1'", "unix_socket_directories = '\(directory.path)'",
            "wal_level = replica", "max_wal_senders = 5", "fsync = off", "max_connections = 200",
            "synchronous_standby_names = '\(synchronous ? "standby1" : "")'",
        ] + (statementStats ? ["shared_preload_libraries = 'pg_stat_statements'", "pg_stat_statements.track_utility = off"] : []))
        try pg("pg_ctl", ["-D", path("primary"), "-l", path("primary.log"), "-w", "-t", "60", "start"])
        if statementStats {
            try PostgresConnection(url: primaryURL, logger: TestDatabases.logger).executeScript(unsafeSQL: "CREATE EXTENSION pg_stat_statements")
        }
        try pg("pg_basebackup", ["-d", "host=127.0.0.1 port=\(primaryPort) user=leadrouter application_name=standby1",
                                 "-D", path("standby"), "-R", "-X", "stream", "--no-sync"])
        // Later lines win: the standby's own port, and no synchronous standby of its own.
        try appendConfig("standby", [
            "port = \(standbyPort)", "synchronous_standby_names = ''", "hot_standby_feedback = on",
        ] + (applyDelay.map { ["recovery_min_apply_delay = '\($0)'"] } ?? []))
        try pg("pg_ctl", ["-D", path("standby"), "-l", path("standby.log"), "-w", "-t", "60", "start"])
        let primary = try PostgresConnection(url: primaryURL, logger: TestDatabases.logger)
        let wanted = synchronous ? "sync" : "async"
        let deadline = Date().addingTimeInterval(30)
        while try primary.query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = \(wanted) AND state = 'streaming'").scalar(Int.self) == 0 {
            guard Date() < deadline else { throw TestClientError(description: "standby never streamed") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    var primaryURL: String { "postgresql://leadrouter@127.0.0.1:\(primaryPort)/postgres" }
    var standbyURL: String { "postgresql://leadrouter@127.0.0.1:\(standbyPort)/postgres" }
    /// Both hosts, the one that accepts writes first found: what a node of a failover pair uses.
    var multiHostURL: String {
        "postgresql://leadrouter@127.0.0.1:\(primaryPort),127.0.0.1:\(standbyPort)/postgres?target_session_attrs=read-write"
    }

    /// Calls per statement text on the primary or the standby so far (`statementStats`), without
    /// the statements that read these counts.
    func statementCalls(onStandby: Bool) throws -> [String: Int] {
        let conn = try PostgresConnection(url: onStandby ? standbyURL : primaryURL, logger: TestDatabases.logger)
        var calls: [String: Int] = [:]
        for row in try conn.query("SELECT query, calls FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'") {
            calls[try row.decode(String.self, "query"), default: 0] += try row.decode(Int.self, "calls")
        }
        return calls
    }

    /// Kills the primary as a crash would: no shutdown checkpoint, clients see their sockets close.
    func killPrimary() throws {
        try pg("pg_ctl", ["-D", path("primary"), "-m", "immediate", "-w", "stop"])
    }

    /// Promotes the standby and waits until it accepts writes.
    func promoteStandby() throws {
        try pg("pg_ctl", ["-D", path("standby"), "-w", "-t", "60", "promote"])
    }

    /// Stops the standby (a synchronous primary's commits then wait for it).
    func stopStandby() throws {
        try pg("pg_ctl", ["-D", path("standby"), "-m", "immediate", "-w", "stop"])
    }

    /// Sets the primary's `synchronous_standby_names` and reloads: waiting commits re-check it.
    func setSynchronousStandbyNames(_ names: String) throws {
        let primary = try PostgresConnection(url: primaryURL, logger: TestDatabases.logger)
        // Two scripts: ALTER SYSTEM refuses to run in the implicit transaction of a multi-statement one.
        try primary.executeScript(unsafeSQL: "ALTER SYSTEM SET synchronous_standby_names = '\(names)'")
        try primary.executeScript(unsafeSQL: "SELECT pg_reload_conf()")
    }

    /// An in-process service on the primary (migrated, the sample ruleset, port 0, no sweeper or
    /// webhooks), started; `configure` adjusts its options.
    func app(_ configure: (inout LeadRouterApp.Options) -> Void = { _ in }) throws -> LeadRouterApp {
        var options = LeadRouterApp.Options(
            databaseURL: primaryURL,
            rulesYAML: try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8),
            rulesFileName: "config/segments.yaml")
        options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
        options.server.host = "127.0.0.1"
        options.server.port = 0
        options.runSweeper = false
        options.webhooks.enabled = false
        configure(&options)
        let app = try LeadRouterApp(options: options, logger: TestDatabases.logger)
        try app.start()
        return app
    }

    /// Stops whatever still runs and removes the directory.
    func stop() {
        for name in ["standby", "primary"] {
            _ = try? pg("pg_ctl", ["-D", path(name), "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func appendConfig(_ cluster: String, _ lines: [String]) throws {
        let file = directory.appendingPathComponent(cluster).appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + lines.joined(separator: "\n") + "\n").utf8))
    }

    /// Runs a server program (as `postgres` when root).
    @discardableResult
    private func pg(_ program: String, _ arguments: [String]) throws -> String {
        let executable = bin.appendingPathComponent(program).path
        // ChildProcess, not Process: a server started by pg_ctl keeps Process's descriptor open.
        let result = asPostgres
            ? try ChildProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
            : try ChildProcess.run(executable, arguments)
        guard result.status == 0 else {
            throw TestClientError(description: "\(program) \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
        return result.output
    }

    /// A TCP port on 127.0.0.1 that nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestClientError(description: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
