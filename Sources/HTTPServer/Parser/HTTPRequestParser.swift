/// An incremental HTTP/1.1 request parser (RFC 9112): bytes in, events out, no I/O.
///
/// It is a state machine over one growing byte buffer with a read index: lines are parsed when
/// their LF has arrived, body bytes are handed out as soon as they are read, and consumed bytes
/// are compacted away lazily in `append`. Every decision depends only on the bytes seen, never
/// on how they were split into reads, so feeding a request in any pieces gives the same events.
/// After an error the parser stays failed and keeps throwing it: the connection must answer
/// the error and close.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable {
        case requestLine
        case fieldLines
        /// `.head` was returned; the next `next()` checks the body against the (route's) limit.
        case headDelivered
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case messageEnd
        /// Stopped on `failure`; kept out of the enum so `State` stays a trivial value.
        case failed
    }

    let limits: HTTPParserLimits
    var state: State = .requestLine
    var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer`.
    var index = 0
    /// Bytes after `index` already searched for LF (so a slow line is not rescanned).
    var scanned = 0
    var leadingEmptyLineBytes = 0
    var bodyLimit: Int
    /// Bytes of chunk data so far in the current chunked body.
    var chunkedTotal = 0
    var pending = PendingHead()
    var failure: HTTPParseError?

    /// Creates a parser for one connection; it parses any number of pipelined requests.
    public init(limits: HTTPParserLimits = .init()) {
        self.limits = limits
        self.bodyLimit = limits.maxBodyBytes
    }

    /// Adds bytes read from the socket. They are copied; the caller may reuse its read buffer.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes (convenience for tests and callers holding an array).
    public mutating func append(_ bytes: [UInt8]) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Sets the body limit of the request whose `.head` was just returned (the route's limit).
    /// Call it before the next `next()`; it applies to this request only.
    public mutating func setBodyLimit(_ bytes: Int) {
        bodyLimit = max(0, bytes)
    }

    /// Bytes of an unfinished message are buffered or a message is in progress: a connection
    /// that stays in this state too long gets 408.
    public var hasPartialMessage: Bool {
        switch state {
        case .requestLine: return index < buffer.count
        case .failed: return false
        default: return true
        }
    }

    /// Still reading a request line or header fields: the slowloris timer runs only then.
    public var isInHead: Bool {
        switch state {
        case .requestLine: return index < buffer.count
        case .fieldLines: return true
        default: return false
        }
    }

    /// Bytes buffered but not yet consumed (e.g. the start of a pipelined request).
    public var bufferedByteCount: Int { buffer.count - index }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        do {
            return try step()
        } catch {
            failure = error
            state = .failed
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .failed:
                throw failure ?? .bad("parser failed")
            case .requestLine:
                guard let line = try takeLine(maxContent: limits.maxRequestLineBytes,
                                              tooLong: HTTPParseError(.uriTooLong, "request line too long"))
                else { return nil }
                if line.isEmpty {
                    leadingEmptyLineBytes += 2
                    if leadingEmptyLineBytes > limits.maxLeadingEmptyLineBytes {
                        throw .bad("too many empty lines before the request line")
                    }
                    continue
                }
                try parseRequestLine(line)
                state = .fieldLines
            case .fieldLines:
                guard let line = try takeSectionLine(trailer: false) else { return nil }
                if line.isEmpty {
                    let head = try finishHead()
                    state = .headDelivered
                    return .head(head)
                }
                guard pending.fields.count < limits.maxHeaderFields else {
                    throw HTTPParseError(.headerFieldsTooLarge, "too many header fields")
                }
                try addField(line)
            case .headDelivered:
                switch pending.framing {
                case .none:
                    state = .messageEnd
                case .length(let length):
                    guard length <= bodyLimit else {
                        throw HTTPParseError(.contentTooLarge, "body of \(length) bytes exceeds the limit of \(bodyLimit)")
                    }
                    state = length == 0 ? .messageEnd : .fixedBody(remaining: length)
                case .chunked:
                    chunkedTotal = 0
                    state = .chunkSizeLine
                }
            case .fixedBody(let remaining):
                guard let bytes = takeBody(upTo: remaining) else { return nil }
                state = bytes.count == remaining ? .messageEnd : .fixedBody(remaining: remaining - bytes.count)
                return .body(bytes)
            case .chunkSizeLine, .chunkData, .chunkDataEnd, .trailerLines:
                guard let event = try stepChunked() else { return nil }
                return event
            case .messageEnd:
                resetForNextMessage()
                return .end
            }
        }
    }

    mutating func resetForNextMessage() {
        state = .requestLine
        pending = PendingHead()
        bodyLimit = limits.maxBodyBytes
        leadingEmptyLineBytes = 0
        chunkedTotal = 0
    }

    /// Takes the next line of a header or trailer section, within the section's byte budget
    /// (`maxHeaderBytes`, counting every line with its CRLF) → 431 beyond it.
    mutating func takeSectionLine(trailer: Bool) throws(HTTPParseError) -> Range<Int>? {
        let tooLarge = HTTPParseError(.headerFieldsTooLarge, trailer ? "trailer section too large" : "header block too large")
        let budget = limits.maxHeaderBytes - pending.headerBytes - 2
        guard budget >= 0 else { throw tooLarge }
        guard let line = try takeLine(maxContent: budget, tooLong: tooLarge) else { return nil }
        pending.headerBytes += line.count + 2
        return line
    }

    /// Consumes up to `count` buffered bytes as a body piece; nil when none are buffered.
    mutating func takeBody(upTo count: Int) -> [UInt8]? {
        let n = min(count, buffer.count - index)
        guard n > 0 else { return nil }
        let bytes = Array(buffer[index..<(index + n)])
        index += n
        return bytes
    }

    /// Takes one CRLF-terminated line of at most `maxContent` bytes (CRLF excluded) and returns
    /// its content range; nil if its end has not arrived. A bare LF is an error (strict CRLF);
    /// a line longer than allowed throws `tooLong` whether or not its LF has arrived.
    mutating func takeLine(maxContent: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let available = buffer.count - index
        let windowEnd = maxContent > available ? buffer.count : min(buffer.count, index + maxContent + 2)
        let found = buffer.withUnsafeBufferPointer { ByteClass.firstLF(in: $0, from: index + scanned, to: windowEnd) }
        guard let lf = found else {
            if available - 2 >= maxContent { throw tooLong }
            scanned = windowEnd - index
            return nil
        }
        guard lf > index, buffer[lf - 1] == ByteClass.cr else { throw .bad("line ends in a bare LF") }
        let line = index..<(lf - 1)
        index = lf + 1
        scanned = 0
        return line
    }

    /// Drops consumed bytes: all of them when the buffer is drained (cheap), otherwise only when
    /// they are both many and most of the buffer, so compaction stays amortised O(1) per byte.
    private mutating func compact() {
        guard index > 0 else { return }
        if index == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            index = 0
        } else if index >= 4096, index * 2 >= buffer.count {
            buffer.removeSubrange(0..<index)
            index = 0
        }
    }
}
