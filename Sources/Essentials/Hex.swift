/// Hexadecimal, written lower-case and read in either case: signatures in headers, secrets and
/// keys, `bytea` text, `\u00XX` escapes, UUIDs. Byte-level throughout (no `String` scalar loops);
/// the small pieces are `@inlinable` so hot paths in other modules get them inlined.
public enum Hex {
    /// The lower-case digit of a nibble (0…15).
    @inlinable @inline(__always)
    public static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 48 : nibble &+ 87
    }

    /// The value of a hex digit (either case), or nil.
    @inlinable @inline(__always)
    public static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c &- 48
        case 97...102: return c &- 87
        case 65...70: return c &- 55
        default: return nil
        }
    }

    /// Appends the two lower-case digits of `byte`.
    @inlinable @inline(__always)
    public static func append(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(digit(byte >> 4))
        out.append(digit(byte & 0x0f))
    }

    /// Appends two lower-case digits per byte.
    @inlinable
    public static func append(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.underestimatedCount * 2)
        for b in bytes { append(b, to: &out) }
    }

    /// Lower-case hex of `bytes`.
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex digits (either case); `nil` for odd length or a non-hex character.
    @inlinable
    public static func decode(_ digits: some Collection<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(digits.count / 2)
        var i = digits.startIndex
        while i != digits.endIndex {
            let j = digits.index(after: i)
            guard let hi = value(digits[i]), let lo = value(digits[j]) else { return nil }
            out.append(hi << 4 | lo)
            i = digits.index(after: j)
        }
        return out
    }

    /// Decodes a hex string (either case); `nil` for odd length or a non-hex character.
    @inlinable
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }
}
