/// Text made safe for a one-line log entry: every entry of the service's log is exactly one
/// line, so that an outage reads as a countable list and `grep` finds whole entries.
public enum OneLine {
    /// Folds multi-line text (libpq's `FATAL: …\nDETAIL: …`, `…unexpectedly\n\tThis probably
    /// means…`) into one line: each line trimmed, empty ones dropped, the rest joined with
    /// ` | `; any other control character (tab, ESC, …) becomes a space.
    public static func fold(_ text: String) -> String {
        // The common case, one line of printable text, is returned as is.
        if !text.unicodeScalars.contains(where: { isControl($0) || isLineBreak($0) }) { return text.trimmingWhitespace() }
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        func endLine() {
            let line = String(current).trimmingWhitespace()
            if !line.isEmpty { lines.append(line) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": endLine()
            default: current.append(isControl(scalar) ? " " : scalar)
            }
        }
        endLine()
        return lines.joined(separator: " | ")
    }

    /// Escapes control characters in a value that is logged as received (a request path, an
    /// error's text): `\n`, `\r`, `\t` as such, others as `\u{XX}`. Printable text,
    /// including non-ASCII, is unchanged; nothing is lost, and the entry stays one line.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) || isLineBreak($0) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar) || isLineBreak(scalar):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0, DEL and C1 control characters.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Line and paragraph separators, which terminals and log viewers also break on.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
