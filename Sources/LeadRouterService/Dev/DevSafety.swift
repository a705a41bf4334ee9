import Foundation
import LeadStore

/// What keeps `leadrouter dev` a local tool: it serves loopback only unless told otherwise, and
/// it keeps one API key with every scope in a 0600 file instead of minting a new one per run.
public enum DevSafety {
    /// True for `localhost`, 127.0.0.0/8, `::1` and `::ffff:127.x.y.z`: the addresses no other
    /// machine can reach.
    public static func isLoopback(host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        return mapped && bytes[12] == 127
    }

    /// Where `dev` keeps its key: next to the data directory, `<data dir>-dev-key`
    /// (`.leadrouter/pg-dev-key` by default), so that each data directory has its own.
    public static func keyFile(forDataDirectory directory: URL) -> URL {
        let directory = directory.standardizedFileURL
        return directory.deletingLastPathComponent().appendingPathComponent(directory.lastPathComponent + "-dev-key")
    }

    /// The key in `file` when it still authenticates with every scope against `app`'s database;
    /// otherwise (no file, database recreated, key revoked) a new one, written to `file` (0600,
    /// replacing the old one atomically). `reused` says which.
    public static func reuseOrCreateKey(app: LeadRouterApp, file: URL, name: String) throws -> (key: String, reused: Bool) {
        if let stored = try readKey(file) {
            let found = try app.pool.withConnection { try Store($0).apiKey(hash: APIKeyHash.of(stored)) }
            if let found, found.scopes.isSuperset(of: APIScope.allCases) { return (stored, true) }
        }
        let key = try app.createKey(name: name, scopes: Set(APIScope.allCases))
        try writeKey(key, to: file)
        return (key, false)
    }

    /// The key stored in `file`, nil when there is none. A file readable by others is made 0600
    /// (it holds a credential); a symbolic link or a file of another user is refused.
    static func readKey(_ file: URL) throws -> String? {
        let fd = open(file.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw EmbeddedPostgres.Failure(description: "cannot read the dev key file \(file.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            throw EmbeddedPostgres.Failure(description: "refusing the dev key file \(file.path): not a regular file of this user; delete it")
        }
        if info.st_mode & 0o077 != 0 { fchmod(fd, 0o600) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &bytes, bytes.count)
        guard n >= 0 else { return nil }
        let text = String(decoding: bytes[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Writes `key` to a new 0600 file beside `file` and renames it over `file`.
    static func writeKey(_ key: String, to file: URL) throws {
        let temporary = file.path + ".\(getpid()).tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw EmbeddedPostgres.Failure(description: "cannot write the dev key file \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((key + "\n").utf8)
        let written = write(fd, bytes, bytes.count)
        fchmod(fd, 0o600)  // whatever the umask
        close(fd)
        guard written == bytes.count, rename(temporary, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EmbeddedPostgres.Failure(description: "cannot write the dev key file \(file.path): \(reason)")
        }
    }
}
