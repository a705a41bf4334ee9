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
    /// The longest window: sends older than it are forgotten.
    let longest: Int64

    init(channel: String, entries: [FrequencyCap]) {
        self.channel = channel; self.entries = entries
        longest = entries.map(\.per.milliseconds).max() ?? 0
    }
}

/// What the lead was sent on one channel: the actions the last decision carried (so a repeat is
/// not a new send) and when new actions were sent (most recent `maxTimes`, within the window).
public struct SentLog: Sendable, Equatable, Codable {
    /// Identities (`Engine.identity`) of the actions the last decision carried on the channel.
    public var carried: [Int64]
    /// When new actions were sent (ms, ascending).
    public var times: [Int64]

    public init(carried: [Int64] = [], times: [Int64] = []) { self.carried = carried; self.times = times }

    /// Sends kept per channel at most.
    public static let maxTimes = 64
}

extension Engine {
    /// Applies `caps` to the decision's actions, updating the lead's sent log. Pure: `now` is the
    /// send time. The log is written back only when it changed (the stored state is shared with
    /// the caller's copy: a write copies it).
    func applyCaps(_ actions: inout [Action], suppressed: inout [SuppressedAction], env: EvalEnv) {
        let caps = ruleset.caps
        guard !caps.isEmpty else { return }
        let now = env.now
        for channelCaps in caps {
            let channel = channelCaps.channel, entries = channelCaps.entries
            // Actions are read in place by index: iterating them copied each (a dozen fields).
            let stored = env.lead.sent.isEmpty ? nil : env.lead.sent.member(channel)
            var onChannel = false
            for k in actions.indices where actions[k].channel == channel { onChannel = true; break }
            guard onChannel || stored != nil else { continue }
            var log = stored ?? SentLog()
            let horizon = now - channelCaps.longest
            if let first = log.times.first, first <= horizon { log.times.removeAll { $0 <= horizon } }
            // The identities carried now, as long as they are the log's own from its start: most
            // decisions carry the same actions again, and then the log's array is kept rather than
            // a new one built per channel and evaluation (docs/benchmarks/backtest.md).
            var carried = CarriedIDs(previous: log.carried)
            var capped: FrequencyCap?
            var remove: [Int] = []
            for k in actions.indices where actions[k].channel == channel {
                // Read in place through its address: `identity(actions[k])` copied the action first.
                let id = actions.withUnsafeBufferPointer { Self.identity(of: $0.baseAddress! + k) }
                if log.carried.contains(id) { carried.append(id); continue }
                guard let cap = entries.first(where: { $0.when?.holds(env) ?? true }) else { carried.append(id); continue }
                let windowStart = now - cap.per.milliseconds
                var sent = 0
                for t in log.times where t > windowStart { sent += 1 }
                if sent >= cap.max {
                    remove.append(k)
                    if capped == nil { capped = cap }
                    continue
                }
                carried.append(id)
                log.times.append(now)
            }
            for k in remove.reversed() { actions.remove(at: k) }
            if log.times.count > SentLog.maxTimes { log.times.removeFirst(log.times.count - SentLog.maxTimes) }
            if !carried.isPrevious { log.carried = carried.list }
            if let capped {
                suppressed.append(SuppressedAction(channel: channel, reason: "frequency_cap", cap: capped.text))
            }
            let next: SentLog? = log.carried.isEmpty && log.times.isEmpty ? nil : log
            if next != stored { env.lead.sent[channel] = next }
        }
    }

    /// What makes two actions the same send: the segment and the fields that say what is sent
    /// (email: sequence; ads: audience and landing page; sales: queue and team), as FNV-1a-64 cut
    /// to 53 bits so it is exact as a JSON number.
    static func identity(_ a: Action) -> Int64 { withUnsafePointer(to: a) { identity(of: $0) } }

    /// `identity` of the action at `action`, its fields read where they are.
    static func identity(of action: UnsafePointer<Action>) -> Int64 {
        var h = FNV1a.offset
        func mix(_ s: String?) {
            FNV1a.mix(&h, s ?? "")
            FNV1a.mix(&h, byte: 0xff)   // field separator
        }
        mix(action.pointee.segment)
        switch action.pointee.channel {
        case "email": mix(action.pointee.sequence)
        case "ads": mix(action.pointee.audience); mix(action.pointee.landingPage)
        default: mix(action.pointee.queue); mix(action.pointee.team)
        }
        return Int64(h & 0x1F_FFFF_FFFF_FFFF)
    }
}

/// The identities a decision carries on a channel, built only once they differ from the previous
/// decision's: while every appended one is the previous list's next, nothing is allocated.
struct CarriedIDs {
    private let previous: [Int64]
    /// How many of `previous` were appended, in order, while nothing differed.
    private var matched = 0
    /// The list, once it differed from `previous`.
    private var built: [Int64] = []
    private var diverged = false

    init(previous: [Int64]) { self.previous = previous }

    /// Whether the identities appended are exactly `previous` (the log keeps its own array).
    var isPrevious: Bool { !diverged && matched == previous.count }

    /// The identities appended (a new array unless `isPrevious`).
    var list: [Int64] { diverged ? built : Array(previous[..<matched]) }

    mutating func append(_ id: Int64) {
        if !diverged {
            if matched < previous.count && previous[matched] == id { matched += 1; return }
            diverged = true
            built.reserveCapacity(matched + 1)
            built.append(contentsOf: previous[..<matched])
        }
        built.append(id)
    }
}
