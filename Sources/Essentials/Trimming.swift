public extension StringProtocol {
    /// Trims Unicode white space and newlines at both ends (Foundation-free).
    func trimmingWhitespace() -> String {
        // Nearly every value (a key, an email) starts and ends with a visible ASCII character:
        // nothing to trim. Rebuilding the string scalar by scalar was a visible cost per request.
        let bytes = utf8
        if let first = bytes.first, (0x21..<0x7F).contains(first),
           (0x21..<0x7F).contains(bytes[bytes.index(bytes.endIndex, offsetBy: -1)]) {
            return String(self)
        }
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
