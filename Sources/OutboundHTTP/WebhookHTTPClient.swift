import Foundation

/// The small blocking HTTP/1.1 client that sends webhooks: one `POST` per connection
/// (`Connection: close`), connect and response timeouts, redirects never followed (a 3xx is just
/// a non-2xx answer), HTTPS verified against the system trust store and an optional extra CA.
/// Blocking on purpose: it runs on the delivery workers' own threads, never on a server thread.
/// Only public addresses are connected to unless the `DestinationPolicy` allows private networks.
public final class WebhookHTTPClient: Sendable {
    /// How long to wait for the TCP connection and TLS handshake, and then for the response head.
    public struct Timeouts: Sendable, Equatable {
        public var connect: Double
        public var response: Double
        /// Seconds for each phase.
        public init(connect: Double = 5, response: Double = 10) { self.connect = connect; self.response = response }
    }

    /// The answer's status and headers (names lower-cased); the body is not read.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var headers: [String: String]
    }

    let timeouts: Timeouts
    let destinations: DestinationPolicy
    private let tls: OutboundTLSContext

    /// `extraCAFile`: a PEM bundle trusted in addition to the system's (e.g. a receiver's private CA).
    /// `destinations`: which addresses may be connected to (public only by default) and the resolver.
    public init(timeouts: Timeouts = Timeouts(), extraCAFile: String? = nil,
                destinations: DestinationPolicy = DestinationPolicy()) throws {
        self.timeouts = timeouts
        self.destinations = destinations
        tls = try OutboundTLSContext(extraCAFile: extraCAFile)
    }

    /// Sends `POST url` with `headers` and `body`; throws `OutboundHTTPError` when no complete
    /// response head arrived in time.
    public func post(_ url: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        let target: OutboundURL
        switch OutboundURL.parse(url) {
        case let .success(parsed): target = parsed
        case let .failure(invalid): throw OutboundHTTPError(.invalidURL, "the URL \(invalid.reason)")
        }
        var head = "POST \(target.target) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: leadrouter-webhooks/1\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body

        let connectBy = Deadline(secondsFromNow: timeouts.connect)  // name resolution included
        let socket = try OutboundSocket.connect(host: target.host, port: target.port, deadline: connectBy, policy: destinations)
        let session = target.secure ? try OutboundTLSSession(context: tls, socket: socket, host: target.host, deadline: connectBy) : nil
        let answerBy = Deadline(secondsFromNow: timeouts.response)
        if let session { try session.writeAll(request, deadline: answerBy) } else { try socket.writeAll(request, deadline: answerBy) }
        var parser = ResponseHeadParser()
        while true {
            let chunk = try session?.read(max: 4096, deadline: answerBy) ?? socket.read(max: 4096, deadline: answerBy)
            if chunk.isEmpty { throw OutboundHTTPError(.closedEarly, "the receiver closed the connection before answering") }
            switch parser.feed(chunk) {
            case .needMore: continue
            case let .complete(status, headers): return Response(status: status, headers: headers)
            case let .invalid(reason): throw OutboundHTTPError(.malformedResponse, reason)
            }
        }
    }
}
