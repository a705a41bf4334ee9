import Essentials
import Foundation

extension UUID {
    /// The canonical lower-case text form (`8-4-4-4-12` hex digits), as PostgreSQL prints a
    /// `uuid` and as leadrouter's documents carry ids. `uuidString` formats through `snprintf`
    /// and in upper case (callers then lower-case it: two more copies); the ingest write path
    /// puts several ids per row into parameters and documents, so it appends these bytes instead —
    /// the 36 of them formatted on the stack and appended at once (appending them one by one was
    /// ~50 instructions a byte, ~15 k per single event: docs/benchmarks/ingest.md, 2026-12-08 "lr-cpu").
    public func appendLowercasedText(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { raw in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
                var at = 0
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 { text[at] = UInt8(ascii: "-"); at += 1 }
                    text[at] = Hex.digit(raw[i] >> 4)
                    text[at + 1] = Hex.digit(raw[i] & 0x0f)
                    at += 2
                }
                bytes.append(contentsOf: UnsafeBufferPointer(text))
            }
        }
    }

    /// `appendLowercasedText` as a `String` (equal to `uuidString.lowercased()`).
    public var lowercasedText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        appendLowercasedText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
