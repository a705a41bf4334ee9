import Essentials
import Foundation

/// Turns a host name into addresses, within a deadline. `getaddrinfo` has no timeout of its own
/// (a dead DNS server holds it for the resolver's retries, tens of seconds), so the lookup runs
/// on a short-lived helper thread and the caller stops waiting at the deadline; an abandoned
/// lookup finishes on its own and its answer is dropped. At most `maxAbandonedLookups` may be
/// left running at once, so a DNS outage cannot pile up threads. (`getaddrinfo_a` was not used:
/// it is glibc-only, needs signal or thread notification, and cannot cancel a lookup under way
/// either — it runs one helper thread per request too.)
///
/// `lookup` is replaceable for tests (a name that resolves to a public address at creation and
/// to loopback at delivery); `name` tells resolvers apart for `Equatable`.
public struct HostResolver: Sendable, Equatable {
    public let name: String
    let lookup: @Sendable (String) throws -> [IPAddress]

    /// A resolver that calls `lookup` (on a helper thread, bounded by the caller's deadline) for
    /// host names; IP literals never reach it.
    public init(name: String, lookup: @escaping @Sendable (String) throws -> [IPAddress]) {
        self.name = name; self.lookup = lookup
    }

    public static func == (a: HostResolver, b: HostResolver) -> Bool { a.name == b.name }

    /// The system resolver (`getaddrinfo`: /etc/hosts, DNS, …).
    public static let system = HostResolver(name: "system", lookup: systemLookup)

    /// Lookups given up at their deadline and still running.
    static let abandoned = Locked(0)
    static let maxAbandonedLookups = 32

    /// The addresses of `host` (an IP literal in any spelling the system accepts is returned as
    /// is); throws `.resolve` when there are none or the deadline passes first.
    func resolve(_ host: String, deadline: Deadline) throws -> [IPAddress] {
        if let literal = IPAddress.parseLiteral(host) { return [literal] }
        guard Self.abandoned.withLock({ $0 }) < Self.maxAbandonedLookups else {
            throw OutboundHTTPError(.resolve, "cannot resolve \(host): too many earlier lookups still waiting for DNS")
        }
        let outcome = Locked<Result<[IPAddress], Error>?>(nil)
        let gaveUp = Locked(false)
        let done = DispatchSemaphore(value: 0)
        let lookup = self.lookup
        do {
            // Not joined: a lookup past the deadline is abandoned (counted below) and its
            // detached thread ends when getaddrinfo returns.
            _ = try NativeThread(name: "lr-resolve") {
                let result = Result { try lookup(host) }
                outcome.withLock { $0 = result }
                done.signal()
                if gaveUp.withLock({ $0 }) { HostResolver.abandoned.withLock { $0 -= 1 } }
            }
        } catch {
            throw OutboundHTTPError(.resolve, "cannot resolve \(host): \(error)")
        }
        guard done.wait(timeout: DispatchTime(uptimeNanoseconds: deadline.uptimeNanoseconds)) == .success else {
            // Count the thread as abandoned unless it finished meanwhile.
            let stillRunning = gaveUp.withLock { flag -> Bool in
                let running = outcome.withLock { $0 == nil }
                if running { flag = true; HostResolver.abandoned.withLock { $0 += 1 } }
                return running
            }
            if stillRunning {
                throw OutboundHTTPError(.resolve, "cannot resolve \(host) within the connect timeout")
            }
            return try Self.addresses(outcome.withLock { $0 }!, host: host)
        }
        return try Self.addresses(outcome.withLock { $0 }!, host: host)
    }

    private static func addresses(_ result: Result<[IPAddress], Error>, host: String) throws -> [IPAddress] {
        let list = try result.get()
        guard !list.isEmpty else { throw OutboundHTTPError(.resolve, "cannot resolve \(host): no address") }
        return list
    }

    /// `getaddrinfo` for TCP, every IPv4 and IPv6 address in the order the system prefers.
    static func systemLookup(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            throw OutboundHTTPError(.resolve, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            if let sa = info.pointee.ai_addr, let address = IPAddress(sockaddr: sa), !addresses.contains(address) {
                addresses.append(address)
            }
        }
        return addresses
    }
}

/// Where webhooks may go: with `allowPrivateNetworks` off (the default) only to public
/// addresses (`AddressClassifier`). Checked when a subscription is created (the URL's literal
/// address, or every address its name resolves to now) and again by `OutboundSocket` for every
/// address it is about to connect to, after resolution, so a name that changes its answer
/// (DNS rebinding) still cannot reach a private network.
public struct DestinationPolicy: Sendable, Equatable {
    public var allowPrivateNetworks: Bool
    public var resolver: HostResolver
    /// Seconds the creation-time lookup may take (the connect timeout).
    public var resolveTimeout: Double

    /// Public addresses only, the system resolver, 5 s to resolve.
    public init(allowPrivateNetworks: Bool = false, resolver: HostResolver = .system, resolveTimeout: Double = 5) {
        self.allowPrivateNetworks = allowPrivateNetworks; self.resolver = resolver; self.resolveTimeout = resolveTimeout
    }

    /// Why `address` may not be connected to, nil when it may.
    public func refusal(of address: IPAddress) -> NonPublicRange? {
        allowPrivateNetworks ? nil : AddressClassifier.classify(address)
    }

    /// Why a subscription to `url` is refused, nil when it is accepted. An IP literal is judged
    /// as it is; a name is resolved (within `resolveTimeout`) and refused when any of its
    /// addresses is non-public. A name that does not resolve now is accepted: delivery checks
    /// again, address by address, before it connects.
    public func problem(with url: OutboundURL) -> String? {
        guard !allowPrivateNetworks else { return nil }
        if let literal = IPAddress.parseLiteral(url.host) {
            return AddressClassifier.classify(literal).map {
                "host \(url.host) is \($0.explanation); webhooks only go to public addresses (webhooks.allow_private_networks is off)"
            }
        }
        guard let addresses = try? resolver.resolve(url.host, deadline: Deadline(secondsFromNow: resolveTimeout)) else { return nil }
        for address in addresses {
            if let range = AddressClassifier.classify(address) {
                return "host \(url.host) resolves to \(range.explanation); webhooks only go to public addresses "
                    + "(webhooks.allow_private_networks is off)"
            }
        }
        return nil
    }
}
