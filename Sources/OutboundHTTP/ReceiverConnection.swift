import Essentials
import Foundation

/// One open connection to a receiver: the TCP socket and, for https, the TLS session over it.
/// Used by one delivery worker at a time; between deliveries it waits in `ConnectionCache`, so a
/// busy receiver costs a TCP (and TLS) handshake per worker rather than per delivery.
final class ReceiverConnection: @unchecked Sendable {
    let socket: OutboundSocket
    let tls: OutboundTLSSession?
    /// Uptime (ns) when it was last put back idle.
    var idleSince: UInt64 = 0

    init(socket: OutboundSocket, tls: OutboundTLSSession?) { self.socket = socket; self.tls = tls }

    func writeAll(_ bytes: [UInt8], deadline: Deadline) throws {
        if let tls { try tls.writeAll(bytes, deadline: deadline) } else { try socket.writeAll(bytes, deadline: deadline) }
    }

    /// Reads what is available (waiting for some before the deadline); empty at end of stream.
    func read(max: Int, deadline: Deadline) throws -> [UInt8] {
        if let tls { return try tls.read(max: max, deadline: deadline) }
        return try socket.read(max: max, deadline: deadline)
    }

    /// An idle connection has nothing to read: if it is readable, the receiver closed it (or sent
    /// something nobody asked for), and it is not used again. Catches most closed connections
    /// before a request is written to them; the rest are retried once (`WebhookHTTPClient`).
    var looksOpen: Bool {
        var entry = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }
}

/// How many idle connections the webhook client keeps per receiver and for how long;
/// `maxIdlePerReceiver` 0 turns reuse off (every request then says `Connection: close`).
public struct ConnectionReuse: Sendable, Equatable {
    public var idleTimeout: Double
    public var maxIdlePerReceiver: Int
    /// Seconds an idle connection is kept, and how many are kept per receiver.
    public init(idleTimeout: Double = 4, maxIdlePerReceiver: Int = 32) {
        self.idleTimeout = idleTimeout; self.maxIdlePerReceiver = maxIdlePerReceiver
    }
}

/// Idle keep-alive connections per receiver ("scheme://host:port"), newest first: at most
/// `maxIdlePerReceiver` each, closed once unused for `idleTimeout` seconds — shorter than the
/// common server keep-alive timeouts (Node.js 5 s, nginx 75 s), so a kept connection is rarely
/// one the receiver is closing at that moment.
final class ConnectionCache: @unchecked Sendable {
    let settings: ConnectionReuse
    private let idle = Locked<[String: [ReceiverConnection]]>([:])

    init(settings: ConnectionReuse) { self.settings = settings }

    /// The newest idle connection to `receiver` that is still open, if any.
    func take(_ receiver: String) -> ReceiverConnection? {
        let now = DispatchTime.now().uptimeNanoseconds
        var closed: [ReceiverConnection] = []  // released after the lock
        defer { closed.removeAll() }
        return idle.withLock { all -> ReceiverConnection? in
            while let connection = all[receiver]?.popLast() {
                if !expired(connection, now: now) && connection.looksOpen { return connection }
                closed.append(connection)
            }
            return nil
        }
    }

    /// Keeps `connection` for the next request to `receiver` (or closes it when enough are kept),
    /// and closes every kept connection that has expired.
    func put(_ connection: ReceiverConnection, for receiver: String) {
        guard settings.maxIdlePerReceiver > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        connection.idleSince = now
        var closed: [ReceiverConnection] = []
        defer { closed.removeAll() }
        idle.withLock { all in
            for (key, list) in all where list.contains(where: { expired($0, now: now) }) {
                closed += list.filter { expired($0, now: now) }
                all[key] = list.filter { !expired($0, now: now) }
            }
            if all[receiver, default: []].count < settings.maxIdlePerReceiver {
                all[receiver, default: []].append(connection)
            } else {
                closed.append(connection)
            }
        }
    }

    /// How many idle connections are kept (all receivers).
    var idleCount: Int { idle.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// `now` is read before the lock, so another worker may have put a connection back after
    /// it: such a connection is not expired (and the subtraction must not go below zero).
    private func expired(_ connection: ReceiverConnection, now: UInt64) -> Bool {
        now > connection.idleSince && now - connection.idleSince > UInt64(settings.idleTimeout * 1e9)
    }
}
