import Essentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte classes of RFC 9110/9112 grammar, as table lookups: the parser asks one of these per
/// byte, so they must not branch on ranges or build Strings.
enum ByteClass {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let ht: UInt8 = 9
    static let colon: UInt8 = 58
    static let comma: UInt8 = 44
    static let semicolon: UInt8 = 59
    static let equals: UInt8 = 61
    static let quote: UInt8 = 34
    static let backslash: UInt8 = 92
    static let slash: UInt8 = 47
    static let question: UInt8 = 63

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA,
    /// as two 64-bit masks (bytes 0–63 and 64–127) written as literals so that no lazy global
    /// initialisation check runs per byte.
    @inline(__always) static func isToken(_ b: UInt8) -> Bool {
        if b < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(b) & 1 == 1 }
        if b < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(b - 64) & 1 == 1 }
        return false
    }

    /// Bytes allowed in a field value: VCHAR, obs-text, SP, HT. Everything else (CR, LF, NUL,
    /// other controls, DEL) is a smuggling vector and rejected.
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool {
        (b >= 0x20 && b != 0x7F) || b == ht
    }

    /// Bytes allowed in a request-target: visible ASCII except `#` (fragments are never sent).
    @inline(__always) static func isTarget(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && b != UInt8(ascii: "#")
    }

    /// Bytes of `uri-host [":" port]` (RFC 3986: unreserved, pct-encoded, sub-delims, IP-literal
    /// brackets, ":"). A Host value with anything else is invalid (RFC 9112 §3.2 → 400).
    @inline(__always) static func isHostByte(_ b: UInt8) -> Bool {
        if b < 64 { return (0x2FFF_7FF2_0000_0000 as UInt64) >> UInt64(b) & 1 == 1 }
        if b < 128 { return (0x47FF_FFFE_AFFF_FFFE as UInt64) >> UInt64(b - 64) & 1 == 1 }
        return false
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always) static func hexValue(_ b: UInt8) -> Int? { Hex.value(b).map(Int.init) }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

    /// ASCII case-insensitive comparison of bytes with a lowercase literal.
    static func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != lit[i] {
            return false
        }
        return true
    }

    /// Index of the first LF in `bytes[from..<to]`, found with `memchr` (vectorised in libc).
    static func firstLF(in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress,
              let hit = memchr(base + from, Int32(lf), to - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
}
