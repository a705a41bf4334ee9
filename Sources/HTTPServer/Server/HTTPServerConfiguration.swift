#if canImport(Glibc)
import Glibc
#endif

/// Everything the server can be told: where to listen, how many threads, and every limit and
/// timeout with its default. Times are in seconds.
public struct HTTPServerConfiguration: Sendable {
    /// Numeric IPv4 or IPv6 address to listen on (`127.0.0.1`, `0.0.0.0`, `::1`, `::`).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests), reported by `HTTPServer.port` after `start()`.
    public var port: Int = 8080
    /// Event-loop threads doing socket I/O and parsing; default: one per core.
    public var eventLoopCount: Int = HTTPServerConfiguration.coreCount
    /// Worker threads running handlers (which may block on the database).
    public var workerThreads: Int = max(4, HTTPServerConfiguration.coreCount * 2)
    /// Requests waiting for a free worker; beyond it the answer is `503` with `Retry-After`.
    public var workerQueueDepth: Int = 1024
    /// Open connections; an extra one gets `503` and is closed.
    public var maxConnections: Int = 10_000
    /// A request head must arrive completely within this (slowloris guard): else `408` and close.
    public var headerReadTimeout: Double = 10
    /// A keep-alive connection with nothing to do is closed silently after this; also the
    /// longest a body read or an unread answer may stall.
    public var idleTimeout: Double = 60
    /// On shutdown, requests in flight get this long to finish before connections are cut.
    public var shutdownGracePeriod: Double = 10
    /// Request line, header and default body limits.
    public var parserLimits = HTTPParserLimits()
    /// Requests parsed ahead of their answers on one connection (pipelining depth).
    public var maxPipelinedRequests: Int = 16
    /// Serve HTTPS with this certificate and key when set.
    public var tls: TLSConfiguration?
    /// What log lines may say about clients (peer addresses, query values); nothing by default.
    public var logPrivacy = LogPrivacy()

    /// The defaults above; set fields to change them.
    public init() {}

    /// Online processors, at least one.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
