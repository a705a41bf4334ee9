/// Percent-decoding (RFC 3986 §2.1) shared by path segments and query strings. Lenient on
/// purpose: an invalid escape (`%zz`, a trailing `%`) is kept literally rather than rejected,
/// and invalid UTF-8 after decoding becomes U+FFFD.
enum PercentDecoding {
    static func decode(_ text: Substring, plusAsSpace: Bool) -> String {
        let utf8 = text.utf8
        // Fast path: nothing to decode, no allocation beyond the String itself.
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "%") {
                let h1 = utf8.index(after: i)
                if h1 != utf8.endIndex {
                    let h2 = utf8.index(after: h1)
                    if h2 != utf8.endIndex, let hi = ByteClass.hexValue(utf8[h1]), let lo = ByteClass.hexValue(utf8[h2]) {
                        out.append(UInt8(hi << 4 | lo))
                        i = utf8.index(after: h2)
                        continue
                    }
                }
                out.append(b)
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                out.append(ByteClass.sp)
            } else {
                out.append(b)
            }
            i = utf8.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Query strings (`application/x-www-form-urlencoded` style, as browsers and SDKs send them).
public enum HTTPQuery {
    /// Splits `a=1&b=x+y&c` into ordered, percent-decoded pairs (`+` is a space; a name without
    /// `=` has an empty value; empty pieces between `&`s are skipped). Repeated names are kept.
    public static func parse(_ raw: String?) -> [(name: String, value: String)] {
        guard let raw, !raw.isEmpty else { return [] }
        var result: [(name: String, value: String)] = []
        for piece in raw.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = piece.firstIndex(of: "=") {
                result.append((PercentDecoding.decode(piece[..<eq], plusAsSpace: true),
                               PercentDecoding.decode(piece[piece.index(after: eq)...], plusAsSpace: true)))
            } else {
                result.append((PercentDecoding.decode(piece, plusAsSpace: true), ""))
            }
        }
        return result
    }
}
