import Foundation

/// The small blocking HTTP/1.1 client that sends webhooks: one `POST` at a time per connection,
/// connections kept open per receiver between deliveries (keep-alive, `ConnectionCache`) and TLS
/// sessions resumed on new ones, connect and response timeouts, redirects never followed (a 3xx
/// is just a non-2xx answer), HTTPS verified against the system trust store and an optional
/// extra CA. Blocking on purpose: it runs on the delivery workers' own threads, never on a
/// server thread. Only public addresses are connected to unless the `DestinationPolicy` allows
/// private networks.
public final class WebhookHTTPClient: Sendable {
    /// How long to wait for the TCP connection and TLS handshake, and then for the response head.
    public struct Timeouts: Sendable, Equatable {
        public var connect: Double
        public var response: Double
        /// Seconds for each phase.
        public init(connect: Double = 5, response: Double = 10) { self.connect = connect; self.response = response }
    }

    /// The answer's status and headers (names lower-cased); the body is read only to reuse the connection.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var headers: [String: String]
        /// Sent on a connection an earlier request had opened.
        public var reusedConnection = false
        /// Sent over a new TLS connection whose handshake resumed an earlier session.
        public var resumedTLSSession = false
    }

    let timeouts: Timeouts
    let destinations: DestinationPolicy
    private let tls: OutboundTLSContext
    let connections: ConnectionCache

    /// `extraCAFile`: a PEM bundle trusted in addition to the system's (e.g. a receiver's private CA).
    /// `destinations`: which addresses may be connected to (public only by default) and the resolver.
    /// `reuse`: how many idle connections per receiver are kept, and how long.
    public init(timeouts: Timeouts = Timeouts(), extraCAFile: String? = nil,
                destinations: DestinationPolicy = DestinationPolicy(), reuse: ConnectionReuse = ConnectionReuse()) throws {
        self.timeouts = timeouts
        self.destinations = destinations
        tls = try OutboundTLSContext(extraCAFile: extraCAFile)
        connections = ConnectionCache(settings: reuse)
    }

    /// How many receivers have a TLS session kept for resumption.
    var resumableSessions: Int { tls.sessions.count }

    /// Sends `POST url` with `headers` and `body`; throws `OutboundHTTPError` when no complete
    /// response head arrived in time. A kept connection that turns out closed before any answer
    /// byte (the receiver timed it out meanwhile) is replaced by a new one and the request sent
    /// again — webhooks are at-least-once, and the receiver saw no complete exchange.
    public func post(_ url: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        let target: OutboundURL
        switch OutboundURL.parse(url) {
        case let .success(parsed): target = parsed
        case let .failure(invalid): throw OutboundHTTPError(.invalidURL, "the URL \(invalid.reason)")
        }
        let reuse = connections.settings.maxIdlePerReceiver > 0
        var head = "POST \(target.target) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: leadrouter-webhooks/1\r\n"
        head += "Content-Length: \(body.count)\r\n"
        if !reuse { head += "Connection: close\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        let receiver = "\(target.secure ? "https" : "http")://\(target.host):\(target.port)"

        if let kept = connections.take(receiver) {
            do {
                return try exchange(request, on: kept, receiver: receiver, reused: true)
            } catch let error as OutboundHTTPError where error.code == .closedEarly || error.code == .io {
                // Closed while idle: try once more on a new connection.
            }
        }
        let connectBy = Deadline(secondsFromNow: timeouts.connect)  // name resolution included
        let socket = try OutboundSocket.connect(host: target.host, port: target.port, deadline: connectBy, policy: destinations)
        let session = target.secure
            ? try OutboundTLSSession(context: tls, socket: socket, host: target.host, port: target.port, deadline: connectBy) : nil
        return try exchange(request, on: ReceiverConnection(socket: socket, tls: session), receiver: receiver, reused: false)
    }

    /// Writes the request, reads the response head, and — when the framing allows and the body
    /// arrives within the response timeout — reads the body through and keeps the connection.
    private func exchange(_ request: [UInt8], on connection: ReceiverConnection, receiver: String, reused: Bool) throws -> Response {
        let answerBy = Deadline(secondsFromNow: timeouts.response)
        try connection.writeAll(request, deadline: answerBy)
        var parser = ResponseHeadParser()
        var response: Response
        readHead: while true {
            let chunk = try connection.read(max: 4096, deadline: answerBy)
            if chunk.isEmpty { throw OutboundHTTPError(.closedEarly, "the receiver closed the connection before answering") }
            switch parser.feed(chunk) {
            case .needMore: continue
            case let .complete(status, headers):
                response = Response(status: status, headers: headers, reusedConnection: reused,
                                    resumedTLSSession: !reused && connection.tls?.resumed == true)
                break readHead
            case let .invalid(reason): throw OutboundHTTPError(.malformedResponse, reason)
            }
        }
        let framing = ResponseFraming.of(status: response.status, headers: response.headers, http10: parser.http10)
        if (try? Self.skipBody(framing, already: parser.remainder, on: connection, deadline: answerBy)) == true {
            connections.put(connection, for: receiver)
        }
        return response
    }

    /// Longest body read through to keep a connection; a longer one closes it instead.
    static let maxSkippedBody = 64 * 1024

    /// Reads the body after the head; true when it ended exactly (nothing after it) and the
    /// connection can carry another request.
    private static func skipBody(_ framing: ResponseFraming, already: [UInt8], on connection: ReceiverConnection,
                                 deadline: Deadline) throws -> Bool {
        switch framing {
        case .close: return false
        case .empty: return already.isEmpty
        case let .length(length):
            guard length <= maxSkippedBody else { return false }
            var seen = already.count
            while seen < length {
                let chunk = try connection.read(max: min(16384, length - seen), deadline: deadline)
                if chunk.isEmpty { return false }
                seen += chunk.count
            }
            return seen == length
        case .chunked:
            var skipper = ChunkedBodySkipper()
            var chunk = already, total = 0
            while true {
                total += chunk.count
                switch skipper.feed(chunk) {
                case let .done(extra): return extra == 0
                case .invalid: return false
                case .needMore:
                    guard total <= maxSkippedBody else { return false }
                    chunk = try connection.read(max: 16384, deadline: deadline)
                    if chunk.isEmpty { return false }
                }
            }
        }
    }
}
