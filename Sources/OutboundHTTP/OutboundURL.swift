/// A webhook target split for the HTTP client: only `http` and `https` absolute URLs with a
/// host, no user info (credentials in URLs end up in logs).
public struct OutboundURL: Sendable, Equatable {
    public var secure: Bool
    /// Host name or IP literal (without the brackets of an IPv6 literal).
    public var host: String
    public var port: Int
    /// Path and query as sent in the request line (`/` when empty).
    public var target: String

    /// Parses `text`; nil when it is not a usable webhook URL.
    public init?(_ text: String) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") { secure = true; rest = text.dropFirst(8) }
        else if lower.hasPrefix("http://") { secure = false; rest = text.dropFirst(7) }
        else { return nil }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty, !authority.contains("@"), !path.contains(" ") else { return nil }
        var hostPart = Substring(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty { guard after.hasPrefix(":") else { return nil }; portText = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        host = String(hostPart)
        if let portText {
            guard let n = Int(portText), (1...65535).contains(n) else { return nil }
            port = n
        } else {
            port = secure ? 443 : 80
        }
        target = path
    }

    /// The `Host` header value (port only when not the scheme's default).
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }
}
