import Foundation

/// Where `Migrator` finds its files: a directory of `NNNN_name.sql` files (`--migrations-dir`),
/// or the files compiled into the binary (so a binary copied alone, e.g. into a container, can
/// migrate). Both go through the same name and version checks.
public enum MigrationSource: Sendable, CustomStringConvertible {
    /// `NNNN_name.sql` files read from this directory at run time.
    case directory(URL)
    /// (`NNNN_name.sql`, SQL) pairs built into the binary.
    case embedded([(fileName: String, sql: String)])

    /// The files, checked and sorted by version.
    public func load() throws -> [MigrationFile] {
        switch self {
        case .directory(let url): return try MigrationFile.load(directory: url)
        case .embedded(let texts): return try MigrationFile.validated(texts)
        }
    }

    /// `migrations/` or `the embedded migrations`, for messages.
    public var description: String {
        switch self {
        case .directory(let url): return url.path
        case .embedded: return "the migrations built into this binary"
        }
    }
}
