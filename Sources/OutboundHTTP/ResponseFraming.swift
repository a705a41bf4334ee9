import Foundation

/// Where a response's body ends, so the connection can carry the next request. Only bodies
/// with a `Content-Length` or chunked transfer coding are read through (and discarded — the
/// status decides a delivery); a body that runs to the end of the connection, `Connection:
/// close` and HTTP/1.0 mean the connection is not reused.
enum ResponseFraming: Equatable {
    case empty
    case length(Int)
    case chunked
    /// The connection cannot carry another request.
    case close

    /// The framing of a response to a POST (RFC 9112 section 6.3).
    static func of(status: Int, headers: [String: String], http10: Bool) -> ResponseFraming {
        let connection = headers["connection"]?.lowercased() ?? ""
        if http10 || connection.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "close" }) {
            return .close
        }
        if status == 204 || status == 304 || (100...199).contains(status) { return .empty }
        if let coding = headers["transfer-encoding"] {
            return coding.lowercased().hasSuffix("chunked") ? .chunked : .close
        }
        guard let text = headers["content-length"] else { return .close }
        guard let length = Int(text), length >= 0 else { return .close }
        return length == 0 ? .empty : .length(length)
    }
}

/// Skips a chunked body as its bytes arrive: chunk sizes, data, and trailer lines up to the
/// empty line that ends it. A plain state machine, tested without sockets.
struct ChunkedBodySkipper {
    enum Action: Equatable {
        case needMore
        /// The body ended; this many of the bytes last fed came after it.
        case done(extra: Int)
        case invalid
    }

    private enum State { case size, data(Int), dataEnd(Int), trailer }
    private var state = State.size
    private var line: [UInt8] = []

    /// Feeds the next bytes of the body.
    mutating func feed(_ bytes: some Collection<UInt8>) -> Action {
        var index = bytes.startIndex
        while index != bytes.endIndex {
            switch state {
            case .size, .trailer:
                let byte = bytes[index]
                index = bytes.index(after: index)
                if byte != 10 {
                    if byte != 13 { line.append(byte) }
                    if line.count > 1024 { return .invalid }
                    continue
                }
                defer { line.removeAll(keepingCapacity: true) }
                if case .trailer = state {
                    if line.isEmpty { return .done(extra: bytes.distance(from: index, to: bytes.endIndex)) }
                    continue
                }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }
                guard let size = Int(String(decoding: digits, as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 16),
                      size >= 0 else { return .invalid }
                state = size == 0 ? .trailer : .data(size)
            case let .data(left):
                let take = min(left, bytes.distance(from: index, to: bytes.endIndex))
                index = bytes.index(index, offsetBy: take)
                state = left - take == 0 ? .dataEnd(2) : .data(left - take)
            case let .dataEnd(left):
                let byte = bytes[index]
                index = bytes.index(after: index)
                guard byte == (left == 2 ? 13 : 10) else { return .invalid }
                state = left == 2 ? .dataEnd(1) : .size
            }
        }
        return .needMore
    }
}
