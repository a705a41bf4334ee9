import Foundation

/// Reads the status line and headers of an HTTP/1.x response from bytes as they arrive — a
/// plain state machine, tested without sockets. Interim 1xx answers are skipped; the body is
/// never needed (the status decides delivery) and is not read.
struct ResponseHeadParser {
    /// What the parser needs next.
    enum Action: Equatable {
        case needMore
        case complete(status: Int, headers: [String: String])
        case invalid(String)
    }

    let maxHeadBytes: Int
    private var buffer: [UInt8] = []
    /// The bytes after the head, once `.complete` (the start of the body).
    var remainder: [UInt8] { buffer }
    /// The final status line said HTTP/1.0 (no keep-alive by default).
    private(set) var http10 = false

    init(maxHeadBytes: Int = 16 * 1024) { self.maxHeadBytes = maxHeadBytes }

    /// Feeds newly read bytes; call again with more while it answers `.needMore`.
    mutating func feed(_ bytes: some Collection<UInt8>) -> Action {
        buffer.append(contentsOf: bytes)
        while true {
            guard let end = Self.headEnd(buffer) else {
                return buffer.count > maxHeadBytes ? .invalid("response head larger than \(maxHeadBytes) bytes") : .needMore
            }
            let head = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeFirst(end + 4)
            let lines = head.components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]),
                  (100...599).contains(status) else {
                return .invalid("not an HTTP/1.x status line: \(ReceiverText.sanitized(String(lines[0].prefix(80)), maxLength: 80))")
            }
            if (100...199).contains(status) && status != 101 { continue }  // 100 Continue and friends
            http10 = parts[0] == "HTTP/1.0"
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { return .invalid("header line without a colon") }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return .complete(status: status, headers: headers)
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}
