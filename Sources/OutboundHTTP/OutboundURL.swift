import Foundation

/// A webhook target split for the HTTP client: only `http` and `https` absolute URLs with a
/// host. Refused: spaces, CR, LF and every other control character anywhere (they would split
/// the request line or a header), anything but printable ASCII (percent-encode it; punycode for
/// international names), user info (`user:pw@host` — credentials in URLs end up in logs, and
/// `public.example@10.0.0.1` hides where a request goes; refused rather than stripped so nothing
/// is silently dropped), host names with characters DNS names do not have (`%`, `\`, …), and
/// numeric hosts that are not a valid IPv4 address.
public struct OutboundURL: Sendable, Equatable {
    public var secure: Bool
    /// Host name or IP literal (without the brackets of an IPv6 literal), as written.
    public var host: String
    public var port: Int
    /// Path and query as sent in the request line (`/` when empty).
    public var target: String

    /// Why a text is not a usable webhook URL (a sentence fragment for "url …").
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// The longest URL accepted.
    public static let maxLength = 2048

    /// Parses `text`; nil when it is not a usable webhook URL.
    public init?(_ text: String) {
        guard case let .success(url) = Self.parse(text) else { return nil }
        self = url
    }

    private init(secure: Bool, host: String, port: Int, target: String) {
        self.secure = secure; self.host = host; self.port = port; self.target = target
    }

    /// Parses `text`, saying what is wrong when it is not a usable webhook URL.
    public static func parse(_ text: String) -> Result<OutboundURL, Invalid> {
        func invalid(_ reason: String) -> Result<OutboundURL, Invalid> { .failure(Invalid(reason: reason)) }
        if text.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) {
            return invalid("must not contain spaces or control characters (CR, LF, tab, …)")
        }
        if text.utf8.contains(where: { $0 >= 0x80 }) {
            return invalid("must be ASCII: percent-encode the path, use the punycode form of an international host name")
        }
        guard text.utf8.count <= maxLength else { return invalid("must be at most \(maxLength) characters") }
        let lower = text.lowercased()
        let secure: Bool
        let rest: Substring
        if lower.hasPrefix("https://") { secure = true; rest = text.dropFirst(8) }
        else if lower.hasPrefix("http://") { secure = false; rest = text.dropFirst(7) }
        else { return invalid("must be an absolute http:// or https:// URL") }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty else { return invalid("must have a host") }
        guard !authority.contains("@") else {
            return invalid("must not contain user info (user:password@); deliveries are authenticated by their signature")
        }
        var hostPart = Substring(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return invalid("has an unclosed [ in its host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return invalid("has text after its IPv6 address") }
                portText = after.dropFirst()
            }
            guard hostPart.contains(":"), IPAddress.parseLiteral(String(hostPart)) != nil else {
                return invalid("has an invalid IPv6 address in brackets")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            guard !hostPart.isEmpty else { return invalid("must have a host") }
            let nameBytes: (UInt8) -> Bool = { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57)
                || $0 == 45 || $0 == 46 || $0 == 95 }
            guard hostPart.utf8.allSatisfy(nameBytes), !hostPart.hasPrefix("."), !hostPart.contains("..") else {
                return invalid("has an invalid host name (letters, digits, '-', '_' and '.' only)")
            }
            // A host whose last label is a number is an IPv4 address (as URL parsers and the
            // resolver read it), never a DNS name: it must then be a valid one.
            let labels = hostPart.split(separator: ".", omittingEmptySubsequences: false)
            let last = hostPart.hasSuffix(".") && labels.count > 1 ? labels[labels.count - 2] : labels[labels.count - 1]
            let numeric = last.allSatisfy(\.isNumber) || (last.lowercased().hasPrefix("0x") && last.dropFirst(2).allSatisfy(\.isHexDigit))
            if numeric && IPAddress.parseLiteral(String(hostPart)) == nil {
                return invalid("has an invalid IPv4 address as its host")
            }
        }
        let port: Int
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
                  let n = Int(portText), (1...65535).contains(n) else {
                return invalid("has an invalid port (1–65535)")
            }
            port = n
        } else {
            port = secure ? 443 : 80
        }
        return .success(OutboundURL(secure: secure, host: String(hostPart), port: port, target: path))
    }

    /// The `Host` header value (port only when not the scheme's default).
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }
}
