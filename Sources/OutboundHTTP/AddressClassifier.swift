import Foundation

/// An IPv4 or IPv6 address as its network-order bytes (4 or 16), plus the IPv6 scope id a
/// link-local address needs to be connected to. Built from a literal (`parseLiteral`) or from
/// what the resolver returned; turned into a `sockaddr` for `connect`.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]
    /// IPv6 scope (interface) id; 0 for IPv4 and global addresses.
    public let scopeID: UInt32

    /// `bytes` must be 4 or 16 long.
    public init?(bytes: [UInt8], scopeID: UInt32 = 0) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
        self.scopeID = bytes.count == 16 ? scopeID : 0
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// An IP address literal as the system resolver reads it, or nil for anything else (a name).
    /// IPv6: `inet_pton` (brackets already removed). IPv4: `inet_aton`, which is what glibc's
    /// `getaddrinfo` uses for a numeric host, so it takes every spelling the resolver would
    /// connect to — decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`.
    public static func parseLiteral(_ text: String) -> IPAddress? {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if text.contains(":") {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            return IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) })
        }
        // inet_aton ignores what follows the first white space; accept only its own alphabet.
        guard text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 120 || $0 == 88
                                      || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) else { return nil }
        var v4 = in_addr()
        guard inet_aton(text, &v4) != 0 else { return nil }
        return IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) })
    }

    /// The address of a resolver answer (`AF_INET`/`AF_INET6`), nil for other families.
    init?(sockaddr pointer: UnsafePointer<sockaddr>) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let v4 = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            self.init(bytes: withUnsafeBytes(of: v4) { Array($0) })
        case AF_INET6:
            let v6 = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            self.init(bytes: withUnsafeBytes(of: v6.sin6_addr) { Array($0) }, scopeID: v6.sin6_scope_id)
        default:
            return nil
        }
    }

    /// Calls `body` with a `sockaddr` for this address and `port`.
    func withSockaddr<R>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        if isIPv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin6_scope_id = scopeID
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }

    var family: Int32 { isIPv4 ? AF_INET : AF_INET6 }

    /// Dotted quad or RFC 5952 text (`inet_ntop`).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        let text = copy.withUnsafeMutableBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return text == nil ? "?" : String(cString: buffer)
    }
}

/// Address ranges a webhook must not reach unless `webhooks.allow_private_networks` is on:
/// everything that is not a public unicast destination on the internet.
public enum NonPublicRange: String, Sendable, CaseIterable {
    case unspecified
    case loopback
    case linkLocal = "link_local"
    case privateNetwork = "private"
    case sharedAddressSpace = "shared_address_space"
    case uniqueLocal = "unique_local"
    case siteLocal = "site_local"
    case multicast
    case broadcast
    case reserved

    /// What the range is, for a problem document or an operator.
    public var explanation: String {
        switch self {
        case .unspecified: return "an unspecified address (0.0.0.0/8, ::)"
        case .loopback: return "a loopback address (127.0.0.0/8, ::1)"
        case .linkLocal: return "a link-local address (169.254.0.0/16, fe80::/10; cloud metadata services live here)"
        case .privateNetwork: return "a private address (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
        case .sharedAddressSpace: return "a carrier-grade NAT address (100.64.0.0/10)"
        case .uniqueLocal: return "a unique local IPv6 address (fc00::/7)"
        case .siteLocal: return "a site-local IPv6 address (fec0::/10)"
        case .multicast: return "a multicast address (224.0.0.0/4, ff00::/8)"
        case .broadcast: return "the broadcast address (255.255.255.255)"
        case .reserved: return "a reserved address (240.0.0.0/4, IPv4-compatible IPv6)"
        }
    }
}

/// Which addresses are public. Pure: no sockets, no resolver. IPv6 forms that carry an IPv4
/// address a host or translator would reach — IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d` and NAT64 `64:ff9b::a.b.c.d` — are judged by that IPv4 address.
public enum AddressClassifier {
    /// nil for a public address, else the range that makes it non-public.
    public static func classify(_ address: IPAddress) -> NonPublicRange? {
        let b = address.bytes
        if address.isIPv4 { return classifyIPv4(b[0], b[1], b[2], b[3]) }
        let embedded = (b[12], b[13], b[14], b[15])
        if b[0..<16].allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {           // ::ffff:0:0/96 mapped
            return classifyIPv4(embedded.0, embedded.1, embedded.2, embedded.3)
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) {                                              // ::/96 compatible (deprecated)
            return classifyIPv4(embedded.0, embedded.1, embedded.2, embedded.3) ?? .reserved
        }
        if b[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] {                  // 64:ff9b::/96 NAT64
            return classifyIPv4(embedded.0, embedded.1, embedded.2, embedded.3)
        }
        if b[0] == 0xff { return .multicast }                                               // ff00::/8
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .linkLocal }                        // fe80::/10
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return .siteLocal }                        // fec0::/10
        if b[0] & 0xfe == 0xfc { return .uniqueLocal }                                      // fc00::/7
        return nil
    }

    static func classifyIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> NonPublicRange? {
        switch (a, b) {
        case (0, _): return .unspecified                                  // 0.0.0.0/8 ("this network"; Linux connects 0.0.0.0 to itself)
        case (10, _): return .privateNetwork                              // 10.0.0.0/8
        case (100, 64...127): return .sharedAddressSpace                  // 100.64.0.0/10
        case (127, _): return .loopback                                   // 127.0.0.0/8
        case (169, 254): return .linkLocal                                // 169.254.0.0/16
        case (172, 16...31): return .privateNetwork                       // 172.16.0.0/12
        case (192, 168): return .privateNetwork                           // 192.168.0.0/16
        case (224...239, _): return .multicast                            // 224.0.0.0/4
        case (255, 255) where c == 255 && d == 255: return .broadcast
        case (240...255, _): return .reserved                             // 240.0.0.0/4
        default: return nil
        }
    }
}
