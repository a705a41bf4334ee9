/// One signal the ruleset counts: an event type (or `*` for any event, used by `inactive`) and an
/// optional `where` filter, with what the engine must keep to answer every use exactly.
public struct SignalSpec: Sendable, Hashable, CustomStringConvertible {
    /// Stable key: FNV-1a 64 of `type` and the canonical `where` text; the same in every process,
    /// so a ruleset that adds a signal is detectable against a stored state.
    public let key: UInt64
    /// Canonical event type, or `*` for any event.
    public let eventType: String
    /// Canonical `where` filter text, if any.
    public let filter: String?
    /// Most recent occurrences kept inside `window` (see `SignalState`).
    public internal(set) var keep: Int
    /// Longest window any rule uses for this signal (ms).
    public internal(set) var window: Int64
    /// Whether the latest occurrence is kept beyond the window (`since`, `inactive`).
    public internal(set) var keepsLatest: Bool
    let predicate: CNode?

    /// `count(type where filter)` as text.
    public var description: String { filter.map { "\(eventType) where \($0)" } ?? eventType }

    public static func == (a: SignalSpec, b: SignalSpec) -> Bool {
        a.key == b.key && a.keep == b.keep && a.window == b.window && a.keepsLatest == b.keepsLatest
    }
    public func hash(into h: inout Hasher) { h.combine(key) }

    /// Whether an event (already resolved) is an occurrence of this signal.
    func matches(_ env: EvalEnv, type: String) -> Bool {
        if eventType != "*", eventType != type { return false }
        return predicate?.eval(env).isTrue ?? true
    }

    /// Whether stored series covers what this spec needs.
    func isCovered(by s: SignalSeries) -> Bool {
        s.complete && s.keep >= keep && s.window >= window && (s.keepsLatest || !keepsLatest)
    }
}

/// Collects signals while compiling; slot order is first-use order, so it is deterministic.
struct SignalRegistry {
    var specs: [SignalSpec] = []
    private var slots: [UInt64: Int] = [:]

    mutating func use(type: String, filter: CNode?) -> Int {
        let key = stableHash(type + "\u{1f}" + (filter?.text ?? ""))
        if let i = slots[key] { return i }
        specs.append(SignalSpec(key: key, eventType: type, filter: filter?.text, keep: 0, window: 0, keepsLatest: false, predicate: filter))
        slots[key] = specs.count - 1
        return specs.count - 1
    }

    mutating func need(_ slot: Int, keep: Int? = nil, window: Int64? = nil, latest: Bool = false) {
        if let keep { specs[slot].keep = max(specs[slot].keep, min(keep, SignalState.maxTimesPerSignal)) }
        if let window { specs[slot].window = max(specs[slot].window, window) }
        if latest { specs[slot].keepsLatest = true }
    }
}

/// Everything whose truth can change with time alone, collected from stage, segment and suppress
/// rules; `next_evaluation_at` derives candidate instants from these.
struct TimeAtoms: Sendable {
    /// A count over a window: it drops when an occurrence leaves the window, but a comparison with a
    /// constant only flips when the k-th most recent occurrence leaves, for the `ranks` k its
    /// thresholds need (nil: every occurrence matters, e.g. a count used in arithmetic).
    var windows: [WindowAtom] = []
    /// (signal slot, threshold): `since(x) op threshold` flips at latest + threshold (+1 ms).
    var since: [Pair] = []
    /// `membership.age op threshold`.
    var ages: [Int64] = []
    /// `lead.score op threshold` (and the band limits): the decaying score crosses it.
    var scores: [Double] = []

    struct Pair: Hashable, Sendable { var slot: Int; var ms: Int64 }
    struct WindowAtom: Hashable, Sendable { var slot: Int; var ms: Int64; var ranks: [Int]? }

    mutating func add(window slot: Int, _ ms: Int64, ranks: [Int]?) {
        guard let i = windows.firstIndex(where: { $0.slot == slot && $0.ms == ms }) else {
            windows.append(WindowAtom(slot: slot, ms: ms, ranks: ranks.map { Array(Set($0)).sorted() }))
            return
        }
        if let old = windows[i].ranks, let ranks { windows[i].ranks = Array(Set(old + ranks)).sorted() } else { windows[i].ranks = nil }
    }
    mutating func add(since slot: Int, _ ms: Int64) { let p = Pair(slot: slot, ms: ms); if !since.contains(p) { since.append(p) } }
    mutating func add(age ms: Int64) { if !ages.contains(ms) { ages.append(ms) } }
    mutating func add(score v: Double) { if !scores.contains(v) { scores.append(v) } }
}
