import Essentials
import Segmentation

/// The engine of the active ruleset version on this node, replaced in place when another version
/// is activated (`RulesetWatcher`), so ingest, the sweeper and the routes switch without a
/// restart. A reader takes one `engine` per unit of work (a message, a sweep batch, a request)
/// and keeps it, so a switch never mixes two versions inside one decision.
public final class ActiveEngine: Sendable {
    private let current: Locked<Engine>

    public init(_ engine: Engine) { current = Locked(engine) }

    /// The engine to use now.
    public var engine: Engine { current.withLock { $0 } }

    /// The version decisions carry now.
    public var version: Int { engine.ruleset.version }

    /// Switches to `engine`; returns whether the version changed.
    @discardableResult
    public func replace(with engine: Engine) -> Bool {
        current.withLock { old in
            defer { old = engine }
            return old.ruleset.version != engine.ruleset.version
        }
    }
}
