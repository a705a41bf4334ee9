import Foundation

/// One `migrations/NNNN_name.sql` file: its version (NNNN), name and SQL text.
public struct MigrationFile: Sendable, Equatable {
    /// NNNN of the file name.
    public var version: Int
    /// The file name without `.sql`, e.g. `0001_schema_v1`.
    public var name: String
    /// The name on disk.
    public var fileName: String { name + ".sql" }
    /// The file's SQL, run as one script.
    public var sql: String

    /// A migration read from elsewhere (tests, embedded SQL).
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads every `*.sql` file of `directory`, sorted by version. A `.sql` file whose name is not
    /// `NNNN_name.sql`, or two files with one version, is an error: a typo must not skip a step.
    public static func load(directory: URL) throws -> [MigrationFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(code: .migration, message: "cannot read migrations directory \(directory.path): \(error.localizedDescription)")
        }
        var texts: [(fileName: String, sql: String)] = []
        for fileName in names where fileName.hasSuffix(".sql") {
            let url = directory.appendingPathComponent(fileName)
            guard let data = FileManager.default.contents(atPath: url.path),
                let sql = String(data: data, encoding: .utf8)
            else {
                throw PostgresError(code: .migration, message: "cannot read migration file \(fileName) as UTF-8")
            }
            texts.append((fileName, sql))
        }
        return try validated(texts)
    }

    /// Files given as (`NNNN_name.sql`, SQL) pairs — read from a directory or compiled into the
    /// binary — checked and sorted by the same rules as `load(directory:)`.
    public static func validated(_ texts: [(fileName: String, sql: String)]) throws -> [MigrationFile] {
        var files: [MigrationFile] = []
        for (fileName, sql) in texts {
            let name = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
            guard let version = parseVersion(name) else {
                throw PostgresError(
                    code: .migration,
                    message: "migration file \(fileName) is not named NNNN_name.sql (digits, underscore, lowercase name)")
            }
            files.append(MigrationFile(version: version, name: name, sql: sql))
        }
        files.sort { $0.version < $1.version }
        for (a, b) in zip(files, files.dropFirst()) where a.version == b.version {
            throw PostgresError(
                code: .migration, message: "migration files \(a.fileName) and \(b.fileName) share version \(a.version)")
        }
        return files
    }

    /// `0001_schema_v1` → 1; nil unless the name is digits, '_', then [a-z0-9_].
    static func parseVersion(_ name: String) -> Int? {
        guard let underscore = name.firstIndex(of: "_") else { return nil }
        let digits = name[..<underscore]
        let rest = name[name.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            !rest.isEmpty,
            rest.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return Int(digits)
    }
}

/// Where a migration stands in a database, as `leadrouter migrate --status` lists it.
public struct MigrationStatus: Sendable, Equatable {
    /// Applied, pending, changed or missing.
    public enum State: String, Sendable {
        /// Recorded, and the file still has the recorded checksum.
        case applied
        /// On disk, not yet recorded.
        case pending
        /// Recorded, but the file changed since: `migrate` refuses to run.
        case changed
        /// Recorded, but no file on disk has its version.
        case missingFile = "missing-file"
    }

    /// NNNN of the file name.
    public var version: Int
    /// The file name without `.sql`.
    public var name: String
    /// Where it stands.
    public var state: State
    /// When it was applied; nil when pending.
    public var appliedAt: Date?
}
