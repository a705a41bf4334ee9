import Essentials
/// Email hygiene: email is the identity key for B2C and, with the company domain, links B2B
/// form fills to CRM accounts — so it is trimmed, lower-cased and syntax-checked before it
/// may identify anyone. An address that fails the check is kept as a trait, never as an identity.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The normalised address (`local@domain`, lower case).
    public let value: String
    /// The part after `@`.
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }
    public var description: String { value }

    /// `nil` when `raw` is not a plausible address after trimming and lower-casing.
    /// The check is deliberately practical (what mail providers accept), not full RFC 5322:
    /// one `@`, a non-empty local part of at most 64 bytes without spaces or control characters,
    /// a domain of dot-separated LDH labels with at least one dot and an alphabetic TLD.
    public init?(_ raw: String) {
        let trimmed = raw.trimmingWhitespace().lowercased()
        let bytes = Array(trimmed.utf8)
        guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")),
              bytes.lastIndex(of: UInt8(ascii: "@")) == at else { return nil }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, Self.validLocal(local), Self.validDomain(domain) else { return nil }
        value = trimmed
    }

    private static func validLocal(_ local: ArraySlice<UInt8>) -> Bool {
        if local.first == UInt8(ascii: ".") || local.last == UInt8(ascii: ".") { return false }
        var previousDot = false
        for c in local {
            if c <= 0x20 || c == 0x7f || c == UInt8(ascii: "\"") || c == UInt8(ascii: ",")
                || c == UInt8(ascii: "(") || c == UInt8(ascii: ")") || c == UInt8(ascii: "<")
                || c == UInt8(ascii: ">") || c == UInt8(ascii: ";") || c == UInt8(ascii: ":")
                || c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "\\") { return false }
            let dot = c == UInt8(ascii: ".")
            if dot && previousDot { return false }
            previousDot = dot
        }
        return true
    }

    private static func validDomain(_ domain: ArraySlice<UInt8>) -> Bool {
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            for c in label where !(isAlnum(c) || c == UInt8(ascii: "-") || c >= 0x80) { return false }
        }
        let tld = labels.last!
        return tld.count >= 2 && tld.allSatisfy { isAlpha($0) || $0 >= 0x80 }
    }

    private static func isAlpha(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) }
    private static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (c >= 48 && c <= 57) }
}
