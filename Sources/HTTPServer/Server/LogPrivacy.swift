import Logging

/// What the server's log lines may say about a client. By default nothing personal: no peer
/// address (an IP address identifies a person under the GDPR), and a request target with its
/// query values blanked (`/v1/leads?email=-`) and passed through `redactPath`, which the
/// application uses for secrets in paths (a write key in `/v1/projects/{writeKey}/settings`).
/// `personalData` (a debugging switch) logs both as received.
public struct LogPrivacy: Sendable {
    /// Log peer addresses and request targets as received.
    public var personalData = false
    /// Rewrites a path (without its query) before it is logged, unless `personalData`.
    public var redactPath: @Sendable (String) -> String = { $0 }

    public init(personalData: Bool = false, redactPath: @escaping @Sendable (String) -> String = { $0 }) {
        self.personalData = personalData; self.redactPath = redactPath
    }

    /// The request target as a log line may show it.
    public func target(_ target: String) -> String {
        if personalData { return target }
        guard let mark = target.firstIndex(of: "?") else { return redactPath(target) }
        let names = target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true).map { pair in
            "\(pair.split(separator: "=", maxSplits: 1).first ?? "")=-"
        }
        return redactPath(String(target[..<mark])) + "?" + names.joined(separator: "&")
    }

    /// Metadata naming the peer, empty unless `personalData`.
    public func peer(_ peer: String) -> Logger.Metadata {
        personalData ? ["peer": "\(peer)"] : [:]
    }
}
