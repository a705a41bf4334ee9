import Essentials

/// The browser origins allowed to call the ingest endpoints cross-origin (CORS): `*` (any), or
/// a list of exact origins (`https://shop.example.com`, `http://localhost:3000`). Empty allows
/// none. Credentials are never allowed whatever this says: Segment-style ingest authenticates
/// with the write key, not with cookies.
///
/// The global default is `ingest.cors_allowed_origins`; a key may carry its own list, which then
/// replaces the default for requests made with that key (migration 0016).
public struct AllowedOrigins: Sendable, Equatable {
    public var any: Bool
    /// Lower-case `scheme://host[:port]`, sorted, no duplicates.
    public var origins: [String]

    public init(any: Bool = false, origins: [String] = []) {
        self.any = any; self.origins = Array(Set(origins)).sorted()
    }

    public static let none = AllowedOrigins()

    /// Whether `origin` (an `Origin` header's value) may call.
    public func allows(_ origin: String) -> Bool {
        any || origins.contains(origin.lowercased())
    }

    /// The union of two lists (a preflight cannot know the key yet: see `CORS`).
    public func union(_ other: AllowedOrigins) -> AllowedOrigins {
        AllowedOrigins(any: any || other.any, origins: origins + other.origins)
    }

    /// As stored and shown: `["*"]` or the origins.
    public var list: [String] { any ? ["*"] : origins }

    /// Parses a comma-separated text (the setting and the CLI): `*`, or origins; blank is none.
    public static func parse(_ text: String) throws(AllowedOriginsError) -> AllowedOrigins {
        try parse(list: text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty })
    }

    /// Parses a list (the keys API's array): `["*"]`, or origins each shaped `http(s)://host[:port]`.
    public static func parse(list: [String]) throws(AllowedOriginsError) -> AllowedOrigins {
        if list.contains("*") {
            guard list.count == 1 else { throw AllowedOriginsError(value: "*", reason: "'*' cannot be combined with other origins") }
            return AllowedOrigins(any: true)
        }
        var origins: [String] = []
        for item in list {
            let origin = item.lowercased()
            guard let scheme = ["https://", "http://"].first(where: origin.hasPrefix) else {
                throw AllowedOriginsError(value: item, reason: "an origin starts with https:// or http://")
            }
            let host = origin.dropFirst(scheme.count)
            guard !host.isEmpty, host.utf8.count <= 253 + 6,
                  host.utf8.allSatisfy({ Self.hostBytes.contains($0) }), !host.hasPrefix(":"), !host.hasSuffix(":") else {
                throw AllowedOriginsError(value: item, reason: "an origin is scheme://host[:port], with no path, query or trailing slash")
            }
            origins.append(origin)
        }
        return AllowedOrigins(origins: origins)
    }

    /// Letters, digits, `-`, `.`, `:` (port) and `[`/`]` (IPv6 literals).
    static let hostBytes: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyz0123456789-.:[]".utf8))
}

/// An origin list that could not be read: which value and why.
public struct AllowedOriginsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var value: String
    public var reason: String
    public var description: String { "'\(value)': \(reason)" }
}
