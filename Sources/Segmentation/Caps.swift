/// `caps:`: how many actions a lead may be sent per channel in a sliding window. An action counts as
/// *sent* when a decision first carries it (the primary segment, the route or a chosen field
/// changed); a decision that carries the same action again sends nothing new. A new action over
/// the first cap entry whose `when` holds is left out and listed in `suppressed` with reason
/// `frequency_cap` and the cap; it is tried again at the lead's next decision.
public struct FrequencyCap: Sendable {
    /// Condition (nil: always); engagement is readable (`lead.band`, `lead.score`, counts).
    public let when: Rule?
    /// Sends allowed in the window.
    public let max: Int
    /// The window.
    public let per: Duration

    /// `max 3 per 7d`, with the `when` rule if any: the cap named in `suppressed`.
    public var text: String { "max \(max) per \(per)" + (when.map { " when \($0.text)" } ?? "") }
}

/// One channel's caps; the first entry whose `when` holds applies.
public struct ChannelCaps: Sendable {
    public let channel: String
    public let entries: [FrequencyCap]
}

/// What the lead was sent on one channel: the actions the last decision carried (so a repeat is
/// not a new send) and when new actions were sent (most recent `maxTimes`, within the window).
public struct SentLog: Sendable, Equatable, Codable {
    /// Identities of the actions the last decision carried on the channel.
    public var carried: [String]
    /// When new actions were sent (ms, ascending).
    public var times: [Int64]

    public init(carried: [String] = [], times: [Int64] = []) { self.carried = carried; self.times = times }

    /// Sends kept per channel at most.
    public static let maxTimes = 64
}

extension Engine {
    /// Applies `caps` to the decision's actions, updating the lead's sent log. Pure: `now` is the
    /// send time.
    func applyCaps(_ actions: inout [Action], suppressed: inout [SuppressedAction], env: EvalEnv) {
        let caps = ruleset.caps
        guard !caps.isEmpty else { return }
        let now = env.now
        for channelCaps in caps {
            let channel = channelCaps.channel, entries = channelCaps.entries
            var log = env.lead.sent[channel] ?? SentLog()
            let longest = entries.map(\.per.milliseconds).max() ?? 0
            log.times.removeAll { $0 <= now - longest }
            var carried: [String] = []
            var capped: FrequencyCap?
            actions.removeAll { a in
                guard a.channel == channel else { return false }
                let id = Self.identity(a)
                carried.append(id)
                if log.carried.contains(id) { return false }
                guard let cap = entries.first(where: { $0.when?.holds(env) ?? true }) else { return false }
                let sent = log.times.reduce(0) { $0 + ($1 > now - cap.per.milliseconds ? 1 : 0) }
                if sent >= cap.max {
                    carried.removeLast()
                    if capped == nil { capped = cap }
                    return true
                }
                log.times.append(now)
                return false
            }
            if log.times.count > SentLog.maxTimes { log.times.removeFirst(log.times.count - SentLog.maxTimes) }
            log.carried = carried
            if let capped {
                suppressed.append(SuppressedAction(channel: channel, reason: "frequency_cap", cap: capped.text))
            }
            env.lead.sent[channel] = log.carried.isEmpty && log.times.isEmpty ? nil : log
        }
    }

    /// What makes two actions the same send: the segment and the fields that say what is sent.
    static func identity(_ a: Action) -> String {
        switch a.channel {
        case "email": return a.segment + "|" + (a.sequence ?? "")
        case "ads": return a.segment + "|" + (a.audience ?? "") + "|" + (a.landingPage ?? "")
        default: return a.segment + "|" + (a.queue ?? "") + "|" + (a.team ?? "")
        }
    }
}
