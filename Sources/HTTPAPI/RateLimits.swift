import Essentials
import Foundation
import HTTPServer

/// The API's rate limits (`rate_limits.*`, docs/http-server.md#rate-limits). A rate of 0 turns
/// a limit off.
public struct RateLimitSettings: Sendable, Equatable {
    /// Requests per API key, every route and scope together (one bucket per key).
    public var perKey = TokenBucket.Limit(rate: 1000, burst: 2000)
    /// Requests per client address that carry no key or fail authentication. Once a client's
    /// bucket is empty, its requests are answered 429 before any key lookup, except with a key
    /// this node has cached as valid.
    public var perPeer = TokenBucket.Limit(rate: 10, burst: 100)
    /// Buckets kept per limit (LRU): bounds memory under a flood of distinct keys or addresses.
    public var maxTracked = 65_536

    /// The defaults.
    public init() {}

    /// Neither limit (benchmarks, tests that want none).
    public static var off: RateLimitSettings {
        var settings = RateLimitSettings()
        settings.perKey = .unlimited
        settings.perPeer = .unlimited
        return settings
    }
}

/// The buckets of both limits, shared by every route of one service.
package final class RateLimits: Sendable {
    package let settings: RateLimitSettings
    let keys: RateLimiter<UUID>
    let peers: RateLimiter<String>

    package init(settings: RateLimitSettings, clock: @escaping @Sendable () -> Double = RateLimiterClock.monotonicSeconds) {
        self.settings = settings
        keys = RateLimiter(limit: settings.perKey, maxTracked: settings.maxTracked, clock: clock)
        peers = RateLimiter(limit: settings.perPeer, maxTracked: settings.maxTracked, clock: clock)
    }
}

/// 429 with `Retry-After` (whole seconds, rounded up): Segment SDKs back off and retry.
package struct TooManyRequests: HTTPResponseError, CustomStringConvertible {
    package let retryAfterSeconds: Int
    package let problemDetail: String?
    package var status: HTTPStatus { .tooManyRequests }
    package var headers: HTTPHeaders { ["Retry-After": String(retryAfterSeconds)] }
    package var description: String { "429 (retry after \(retryAfterSeconds) s): \(problemDetail ?? "")" }

    static func perKey(_ outcome: TokenBucket.Outcome, limit: TokenBucket.Limit) -> TooManyRequests {
        TooManyRequests(retryAfterSeconds: outcome.retryAfterSeconds ?? 1,
                        problemDetail: "this API key is limited to \(Self.format(limit.rate)) requests per second (bursts of \(Self.format(limit.burst))); retry later")
    }

    static func perPeer(_ outcome: TokenBucket.Outcome) -> TooManyRequests {
        TooManyRequests(retryAfterSeconds: outcome.retryAfterSeconds ?? 1,
                        problemDetail: "too many requests without a valid API key from this address; retry later")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// The per-key limit: after `Authenticate`, one token of the key's bucket per request; an empty
/// bucket answers 429.
package struct LimitPerKey: RouterMiddleware {
    let limits: RateLimits

    package init(limits: RateLimits) { self.limits = limits }

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        let key = try context.authenticatedKey()
        let outcome = limits.keys.consume(key.id)
        if case .limited = outcome { throw TooManyRequests.perKey(outcome, limit: limits.settings.perKey) }
        return try next(request, context)
    }
}

/// What the per-peer limit keys on: the client's address without its port; an IPv6 client by
/// its /64 (one host usually holds the whole prefix), an IPv4-mapped IPv6 address as IPv4.
package enum PeerAddress {
    package static func key(_ remoteAddress: String) -> String {
        var host = Substring(remoteAddress)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        guard host.contains(":") else { return String(host) }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, String(host), &bytes) == 1 else { return String(host) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "::/64"
    }
}
