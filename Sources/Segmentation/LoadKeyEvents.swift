import Yams

/// `key_events:` — the event types the business depends on, each with how long it may stay
/// silent before drift reports it (`GET /v1/drift`, webhook topic `drift.detected`).
///
/// ```yaml
/// key_events:
///   requested_demo: 2d          # no demo request for two days: the form is probably broken
///   completed_checkout: 12h
/// ```
///
/// Each key must be a known event type (an alias target, a `types` entry, a `statuses.on_event`
/// key or `page_viewed`), so a typo is refused at load like one in `count()`.
extension RulesetLoader {
    func loadKeyEvents(_ n: Node?, knownTypes: [String]) -> [KeyEvent] {
        guard let n, let m = y.mapping(n, "`key_events`", allowed: []) else { return [] }
        var out: [KeyEvent] = []
        for (type, keyNode, value) in m {
            guard knownTypes.contains(type) else {
                sink.error(y.loc(keyNode), "`key_events`: unknown event type `\(type)`\(didYouMean(type, knownTypes))")
                continue
            }
            if let silence = y.duration(value, "the silence of key event `\(type)`") { out.append(KeyEvent(type: type, silence: silence)) }
        }
        return out.sorted { $0.type < $1.type }
    }
}

/// One `key_events` entry: an event type and the longest silence expected of it.
public struct KeyEvent: Sendable, Equatable {
    public let type: String
    public let silence: Duration
}
