import Foundation

/// One stored ruleset version (`rulesets`): its text never changes once stored; only whether it
/// is active, and since when, does.
public struct RulesetVersion: Sendable, Equatable {
    public var version: Int
    public var yaml: String
    /// SHA-256 of the YAML text, lower-case hex.
    public var checksum: String
    /// The API key's name, or `file:<path>` for a file `serve --rules` adopted.
    public var author: String
    public var note: String
    public var active: Bool
    public var createdAt: Date
    /// The last time it became active / stopped being active (nil: never).
    public var activatedAt: Date?
    public var deactivatedAt: Date?
}

/// One activation (`ruleset_activations`) and how far the background re-evaluation of the leads
/// under it has come.
public struct RulesetActivation: Sendable, Equatable {
    public var id: Int64
    public var version: Int
    public var previousVersion: Int?
    public var activatedBy: String
    public var activatedAt: Date
    /// Live leads when it was activated, and how many have been re-evaluated (and changed) since.
    public var leadsTotal: Int64
    public var reevaluated: Int64
    public var changed: Int64
    /// The last lead id re-evaluated (leads are walked in id order).
    public var reevaluatedThrough: UUID?
    public var finishedAt: Date?
    /// A newer activation came before this one's re-evaluation finished.
    public var superseded: Bool
}

/// The PostgreSQL channel an activation is announced on; its payload is the version number.
public let rulesetNotifyChannel = "leadrouter_ruleset"
