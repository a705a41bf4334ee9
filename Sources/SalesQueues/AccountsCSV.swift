import Essentials
import Foundation

/// Company domains as the accounts table keys them: lower case, no scheme, path or `www.`.
public enum AccountDomain {
    /// The normalised domain, or nil when `text` is not a domain name.
    public static func normalise(_ text: String) -> String? {
        var d = text.trimmingWhitespace().lowercased()
        for prefix in ["https://", "http://"] where d.hasPrefix(prefix) { d.removeFirst(prefix.count) }
        if let slash = d.firstIndex(of: "/") { d = String(d[..<slash]) }
        if d.hasPrefix("www.") { d.removeFirst(4) }
        let label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        guard d.count <= 253, d.range(of: "^\(label)(\\.\(label))+$", options: .regularExpression) != nil else { return nil }
        return d
    }
}

/// `leadrouter accounts import FILE.csv`: a header line naming `domain` and `owner_id` columns
/// (others are ignored), then one account per line. Quoted fields ("…", "" for a quote) work.
public struct AccountsCSV: Sendable, Equatable {
    /// A line that could not be read, 1-based, and why.
    public struct LineError: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        /// Why the line was refused.
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The good lines: normalised domain and owner id.
    public var accounts: [(domain: String, ownerId: String)]
    /// Every bad line (an import with any refuses the whole file).
    public var errors: [LineError]

    public static func == (a: AccountsCSV, b: AccountsCSV) -> Bool {
        a.errors == b.errors && a.accounts.map { "\($0.domain) \($0.ownerId)" } == b.accounts.map { "\($0.domain) \($0.ownerId)" }
    }

    /// Reads `text`; every bad line is reported, the good ones kept.
    public init(_ text: String) {
        accounts = []; errors = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard let header = lines.first.map({ Self.fields(String($0)).map { $0.lowercased() } }),
              let d = header.firstIndex(of: "domain"), let o = header.firstIndex(of: "owner_id") else {
            errors = [LineError(line: 1, reason: "the header must name the columns domain and owner_id")]
            return
        }
        for (index, raw) in lines.enumerated().dropFirst() {
            let line = String(raw).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if line.trimmingWhitespace().isEmpty { continue }
            let f = Self.fields(line)
            guard f.count > max(d, o) else { errors.append(LineError(line: index + 1, reason: "too few columns")); continue }
            guard let domain = AccountDomain.normalise(f[d]) else {
                errors.append(LineError(line: index + 1, reason: "'\(f[d])' is not a domain")); continue
            }
            let owner = f[o].trimmingWhitespace()
            guard !owner.isEmpty else { errors.append(LineError(line: index + 1, reason: "owner_id is empty")); continue }
            accounts.append((domain, owner))
        }
    }

    /// The comma-separated fields of one line.
    static func fields(_ line: String) -> [String] {
        var out: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() { if next == "\"" { current.append("\"") } else { quoted = false; pending = next } } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { out.append(current); current = "" } else { current.append(c) }
        }
        out.append(current)
        return out
    }
}
