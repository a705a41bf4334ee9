import Essentials
import Foundation

extension UUID {
    /// The canonical lower-case text form (`8-4-4-4-12` hex digits), as PostgreSQL prints a
    /// `uuid` and as leadrouter's documents carry ids. `uuidString` formats through `snprintf`
    /// and in upper case (callers then lower-case it: two more copies); the ingest write path
    /// puts several ids per row into parameters and documents, so it appends these bytes instead.
    public func appendLowercasedText(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { raw in
            for (i, byte) in raw.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { bytes.append(UInt8(ascii: "-")) }
                Hex.append(byte, to: &bytes)
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
