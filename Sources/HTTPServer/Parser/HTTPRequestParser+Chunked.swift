extension HTTPRequestParser {
    /// One step of a chunked body (RFC 9112 §7.1): size line, data, CRLF, …, last chunk,
    /// trailer section. Trailer fields are validated like header fields, bounded by the header
    /// limits, and discarded (the head was already delivered; nothing we serve uses trailers).
    mutating func stepChunked() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .chunkSizeLine:
                guard let line = try takeLine(maxContent: limits.maxChunkLineBytes,
                                              tooLong: .bad("chunk size line too long"))
                else { return nil }
                let size = try parseChunkSizeLine(line)
                if size == 0 {
                    pending.headerBytes = 0
                    pending.fields.removeAll(keepingCapacity: true)
                    state = .trailerLines
                    continue
                }
                guard size <= bodyLimit - chunkedTotal else {
                    throw HTTPParseError(.contentTooLarge, "chunked body exceeds the limit of \(bodyLimit) bytes")
                }
                chunkedTotal += size
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard let bytes = takeBody(upTo: remaining) else { return nil }
                state = bytes.count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - bytes.count)
                return .body(bytes)
            case .chunkDataEnd:
                guard buffer.count - index >= 2 else {
                    if buffer.count > index, buffer[index] != ByteClass.cr { throw .bad("chunk data not followed by CRLF") }
                    return nil
                }
                guard buffer[index] == ByteClass.cr, buffer[index + 1] == ByteClass.lf else {
                    throw .bad("chunk data not followed by CRLF")
                }
                index += 2
                state = .chunkSizeLine
            case .trailerLines:
                guard let line = try takeSectionLine(trailer: true) else { return nil }
                if line.isEmpty {
                    resetForNextMessage()
                    return .end
                }
                pending.fields.append(("", ""))  // counted, not kept
                guard pending.fields.count <= limits.maxHeaderFields else {
                    throw HTTPParseError(.headerFieldsTooLarge, "too many trailer fields")
                }
                let checked = buffer.withUnsafeBufferPointer { parseFieldLine(line, in: $0) }
                if case .failure(let error) = checked { throw error }
            default:
                return nil
            }
        }
    }

    /// `chunk-size [ chunk-ext ]`: 1*HEXDIG, then `*( BWS ";" BWS name [ BWS "=" BWS value ] )`
    /// with token names and token or quoted-string values. Extensions are checked and ignored.
    private func parseChunkSizeLine(_ line: Range<Int>) throws(HTTPParseError) -> Int {
        let result: Result<Int, HTTPParseError> = buffer.withUnsafeBufferPointer { b in
            var i = line.lowerBound
            var size = 0
            var significant = 0
            while i < line.upperBound, let digit = ByteClass.hexValue(b[i]) {
                if size > 0 || digit > 0 { significant += 1 }
                guard significant <= 15 else { return .failure(.bad("chunk size overflows")) }
                size = size << 4 | digit
                i += 1
            }
            guard i > line.lowerBound else { return .failure(.bad("malformed chunk size")) }
            guard Self.validChunkExtensions(b, from: i, to: line.upperBound) else {
                return .failure(.bad("malformed chunk extension"))
            }
            return .success(size)
        }
        return try result.get()
    }

    private static func validChunkExtensions(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var i = start
        func skipBWS() { while i < end, b[i] == ByteClass.sp || b[i] == ByteClass.ht { i += 1 } }
        func token() -> Bool {
            let s = i
            while i < end, ByteClass.isToken(b[i]) { i += 1 }
            return i > s
        }
        while true {
            skipBWS()
            if i == end { return i == start }  // trailing whitespace alone is not allowed
            guard b[i] == ByteClass.semicolon else { return false }
            i += 1
            skipBWS()
            guard token() else { return false }
            let afterName = i
            skipBWS()
            guard i < end, b[i] == ByteClass.equals else {
                i = afterName
                if i == end { return true }
                continue
            }
            i += 1
            skipBWS()
            if i < end, b[i] == ByteClass.quote {
                i += 1
                var closed = false
                while i < end {
                    let c = b[i]
                    if c == ByteClass.quote { closed = true; i += 1; break }
                    if c == ByteClass.backslash {
                        guard i + 1 < end, ByteClass.isFieldValue(b[i + 1]) else { return false }
                        i += 2
                        continue
                    }
                    guard ByteClass.isFieldValue(c) else { return false }
                    i += 1
                }
                guard closed else { return false }
            } else if !token() {
                return false
            }
            if i == end { return true }
        }
    }
}
