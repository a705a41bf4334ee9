import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's cryptographically secure generator
    /// (`SystemRandomNumberGenerator`: `getrandom(2)` on Linux, one system call per 8 bytes).
    /// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id — three
    /// system calls and a path lookup — and ingest makes two or three ids per event (event,
    /// decision, a new lead's), about 3 % of the server's CPU per event at 64 connections
    /// (docs/benchmarks/ingest.md, 2026-12-07 "event-cpu"). The hot paths make ids with this.
    public static func random() -> UUID {
        var rng = SystemRandomNumberGenerator()
        let a: UInt64 = rng.next(), b: UInt64 = rng.next()
        func byte(_ word: UInt64, _ index: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: word >> (8 * index)) }
        return UUID(uuid: (
            byte(a, 0), byte(a, 1), byte(a, 2), byte(a, 3), byte(a, 4), byte(a, 5),
            byte(a, 6) & 0x0F | 0x40,  // version 4
            byte(a, 7),
            byte(b, 0) & 0x3F | 0x80,  // variant 10 (RFC 9562)
            byte(b, 1), byte(b, 2), byte(b, 3), byte(b, 4), byte(b, 5), byte(b, 6), byte(b, 7)))
    }
}
