private import CSystemShims
import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's cryptographically secure generator: one
    /// `getrandom(2)` call for all 16 bytes. Foundation's `UUID()` on Linux opens, reads and closes
    /// `/dev/urandom` for every id — three system calls and a path lookup — and
    /// `SystemRandomNumberGenerator` makes one `getrandom` per 8 bytes, so two per id; ingest makes
    /// two or three ids per event (event, decision, a new lead's) — docs/benchmarks/ingest.md,
    /// 2026-12-07 "event-cpu" and 2026-12-08 "lr-cpu". The hot paths make ids with this.
    public static func random() -> UUID {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { fillRandom($0) }
        bytes.6 = bytes.6 & 0x0F | 0x40  // version 4
        bytes.8 = bytes.8 & 0x3F | 0x80  // variant 10 (RFC 9562)
        return UUID(uuid: bytes)
    }

    /// Fills `buffer` from `getrandom` (a short read or EINTR asks again); if the call is
    /// unavailable or fails, from `SystemRandomNumberGenerator`, which never fails.
    private static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < buffer.count {
            let got = lr_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
            if got > 0 { filled += got; continue }
            if got < 0 && errno == EINTR { continue }
            break
        }
        if filled == buffer.count { return }
        var rng = SystemRandomNumberGenerator()
        for index in buffer.indices { buffer[index] = rng.next() }
    }
}
