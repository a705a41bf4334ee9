import Foundation
import Logging

/// Applies `migrations/NNNN_name.sql` files in order, each once, each in its own transaction,
/// recording a SHA-256 checksum in `schema_migrations`.
///
/// A session-level advisory lock (fixed key) guards the whole run, so several nodes running
/// `leadrouter migrate` or `serve --migrate` at once apply each migration exactly once: the
/// others wait, then find nothing left to do. An applied file that changed is refused.
public struct Migrator: Sendable {
    /// `pg_advisory_lock` key: "leadrout" as a big-endian int64.
    public static let advisoryLockKey: Int64 = 7_810_756_212_788_524_404

    /// The database to migrate.
    public let configuration: PostgresConfiguration
    /// Where the NNNN_name.sql files come from.
    public let source: MigrationSource
    let logger: Logger

    /// A migrator for the files of `source` (the embedded files, or a directory).
    public init(configuration: PostgresConfiguration, source: MigrationSource, logger: Logger) {
        self.configuration = configuration
        self.source = source
        self.logger = logger
    }

    /// A migrator for the files of `directory` (usually `./migrations`).
    public init(configuration: PostgresConfiguration, directory: URL, logger: Logger) {
        self.init(configuration: configuration, source: .directory(directory), logger: logger)
    }

    /// Applies every pending migration and returns the ones it applied (empty when up to date).
    @discardableResult
    public func migrate() throws -> [MigrationFile] {
        let files = try source.load()
        let conn = try PostgresConnection(configuration: configuration, logger: logger)
        try conn.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
        defer { _ = try? conn.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))") }
        try conn.executeScript(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            )
            """)
        let applied = try appliedMigrations(conn)
        // Refuse before changing anything if any applied file was edited.
        var pending: [(MigrationFile, String)] = []
        for file in files {
            let checksum = try Self.checksum(of: file, conn)
            if let record = applied[file.version] {
                try Self.verify(file, checksum: checksum, against: record)
            } else {
                pending.append((file, checksum))
            }
        }
        var done: [MigrationFile] = []
        for (file, checksum) in pending {
            try apply(file, checksum: checksum, conn)
            done.append(file)
        }
        if done.isEmpty { logger.info("migrations up to date", metadata: ["applied": "\(applied.count)"]) }
        try distributeOnCitus(conn)
        return done
    }

    /// On a Citus coordinator, places every table not placed yet (migration 0055's function: a
    /// no-op without the citus extension). After every run, so that tables of later migrations
    /// and a database that got Citus later are placed too (docs/scale-out.md#citus-the-cluster).
    private func distributeOnCitus(_ conn: PostgresConnection) throws {
        guard try conn.query("SELECT to_regprocedure('leadrouter_citus_distribute()') IS NOT NULL").scalar(Bool.self) else { return }
        let placed = try conn.withTransaction(maxAttempts: 1) { try $0.query("SELECT leadrouter_citus_distribute()").scalar(Int.self) }
        if placed > 0 { logger.info("tables placed on the Citus cluster", metadata: ["tables": "\(placed)"]) }
    }

    /// Lists applied, pending, changed and missing migrations, by version; changes nothing.
    public func status() throws -> [MigrationStatus] {
        let files = try source.load()
        let conn = try PostgresConnection(configuration: configuration, logger: logger)
        let hasTable = try conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
            .scalar(Bool.self)
        let applied = hasTable ? try appliedMigrations(conn) : [:]
        var result: [MigrationStatus] = []
        for file in files {
            guard let record = applied[file.version] else {
                result.append(MigrationStatus(version: file.version, name: file.name, state: .pending))
                continue
            }
            let checksum = try Self.checksum(of: file, conn)
            let state: MigrationStatus.State = checksum == record.checksum ? .applied : .changed
            result.append(MigrationStatus(version: file.version, name: file.name, state: state, appliedAt: record.appliedAt))
        }
        let onDisk = Set(files.map(\.version))
        for record in applied.values where !onDisk.contains(record.version) {
            result.append(MigrationStatus(version: record.version, name: record.name, state: .missingFile, appliedAt: record.appliedAt))
        }
        return result.sorted { $0.version < $1.version }
    }

    // MARK: - steps

    struct Record {
        var version: Int
        var name: String
        var checksum: String
        var appliedAt: Date
    }

    private func appliedMigrations(_ conn: PostgresConnection) throws -> [Int: Record] {
        var records: [Int: Record] = [:]
        for row in try conn.query("SELECT version, name, checksum, applied_at FROM schema_migrations") {
            let version = try row.decode(Int.self, "version")
            records[version] = Record(
                version: version, name: try row.decode(String.self, "name"),
                checksum: try row.decode(String.self, "checksum"),
                appliedAt: try row.decode(Date.self, "applied_at"))
        }
        return records
    }

    private func apply(_ file: MigrationFile, checksum: String, _ conn: PostgresConnection) throws {
        let started = DispatchTime.now()
        logger.info("applying migration", metadata: ["file": "\(file.fileName)"])
        do {
            try conn.withTransaction(maxAttempts: 1) { tx in
                try tx.executeScript(unsafeSQL: file.sql)
                let ms = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
                try tx.query("""
                    INSERT INTO schema_migrations (version, name, checksum, duration_ms)
                    VALUES (\(file.version), \(file.name), \(checksum), \(ms))
                    """)
            }
        } catch let error as PostgresError {
            var wrapped = error
            wrapped.code = .migration
            wrapped.message = "migration \(file.fileName) failed: \(error.message)"
            throw wrapped
        }
    }

    static func verify(_ file: MigrationFile, checksum: String, against record: Record) throws {
        guard checksum == record.checksum else {
            throw PostgresError(
                code: .migration,
                message: "migration \(file.fileName) was changed after it was applied "
                    + "(recorded sha256 \(record.checksum.prefix(12))…, file now \(checksum.prefix(12))…); "
                    + "restore the file and put the change in a new migration")
        }
    }

    /// SHA-256 (hex) of the file's bytes, computed by the server's `sha256()` so the module needs
    /// no crypto library of its own.
    static func checksum(of file: MigrationFile, _ conn: PostgresConnection) throws -> String {
        try conn.query("SELECT encode(sha256(\(Data(file.sql.utf8))), 'hex') AS sum").scalar(String.self)
    }
}
