#if canImport(Glibc)
import Glibc
#endif
import Segmentation

/// What is stored of a message's `context.ip` (the sender's client address, personal data):
/// `truncate` (default) keeps the network — IPv4 /24, IPv6 /48, enough for geography and fraud
/// checks, not enough to single out a household; `drop` removes it; `keep` stores it as sent.
/// Applied before the message is stored, so no full address ever reaches the database.
public enum ContextIPPolicy: String, Sendable, CaseIterable {
    case truncate, drop, keep

    /// `context` with its `ip` handled by the policy; an `ip` that is not an address is dropped
    /// unless the policy is `keep`.
    func apply(to context: [String: Value]) -> [String: Value] {
        guard self != .keep, let value = context["ip"] else { return context }
        var out = context
        if self == .truncate, case .string(let text) = value, let network = Self.truncated(text) {
            out["ip"] = .string(network)
        } else {
            out["ip"] = nil
        }
        return out
    }

    /// `203.0.113.77` → `203.0.113.0`; `2001:db8:abcd:12::1` → `2001:db8:abcd::`; nil when not an address.
    static func truncated(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            v4.s_addr &= UInt32(0xFFFF_FF00).bigEndian
            return format(AF_INET, &v4, length: INET_ADDRSTRLEN)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            withUnsafeMutableBytes(of: &v6) { bytes in for i in 6..<16 { bytes[i] = 0 } }
            return format(AF_INET6, &v6, length: INET6_ADDRSTRLEN)
        }
        return nil
    }

    private static func format<T>(_ family: Int32, _ address: inout T, length: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(length))
        guard inet_ntop(family, &address, &buffer, socklen_t(length)) != nil else { return nil }
        return String(cString: buffer)
    }
}
