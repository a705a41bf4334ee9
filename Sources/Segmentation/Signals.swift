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
    /// For a value signal (`sum(type.field, …)` and kin) the property path whose number each
    /// occurrence keeps; nil for a signal that only counts.
    public let field: [String]?
    /// Most recent occurrences kept inside `window` (see `SignalState`).
    public internal(set) var keep: Int
    /// Longest window any rule uses for this signal (ms).
    public internal(set) var window: Int64
    /// Whether the latest occurrence is kept beyond the window (`since`, `inactive`).
    public internal(set) var keepsLatest: Bool
    let predicate: CNode?

    /// `type[.field] where filter` as text.
    public var description: String {
        let subject = field.map { "\(eventType).\($0.joined(separator: "."))" } ?? eventType
        return filter.map { "\(subject) where \($0)" } ?? subject
    }

    /// Same signal with the same coverage needs.
    public static func == (a: SignalSpec, b: SignalSpec) -> Bool {
        a.key == b.key && a.keep == b.keep && a.window == b.window && a.keepsLatest == b.keepsLatest
    }
    /// Hashes the stable key.
    public func hash(into h: inout Hasher) { h.combine(key) }

    /// Whether an event (already resolved) is an occurrence of this signal.
    func matches(_ env: EvalEnv, type: String) -> Bool {
        if eventType != "*", eventType != type { return false }
        return predicate?.eval(env).isTrue ?? true
    }

    /// Adds the event's occurrence (already known to match) to `series`: a value signal only when
    /// the event carries a number at `field` (a missing or non-numeric value is not an occurrence).
    func record(_ ev: ResolvedEvent, into series: inout SignalSeries) {
        SignalSpec.record(ev, field: field, into: &series)
    }

    static func record(_ ev: ResolvedEvent, field: [String]?, into series: inout SignalSeries) {
        guard let field else { series.insert(ev.at); return }
        if case .number(let v)? = dig(ev.properties, field), v.isFinite { series.insert(ev.at, value: v) }
    }

    /// Whether stored series covers what this spec needs.
    func isCovered(by s: SignalSeries) -> Bool { needs.isCovered(by: s) }

    /// What the series must keep, as a trivial value (copied without retains on the hot path).
    var needs: SignalNeeds { SignalNeeds(keep: keep, window: window, keepsLatest: keepsLatest) }
}

/// The coverage a signal needs: `keep`, `window`, `keepsLatest` of `SignalSpec`.
struct SignalNeeds: Sendable {
    var keep: Int
    var window: Int64
    var keepsLatest: Bool

    /// Whether stored series covers it.
    func isCovered(by s: SignalSeries) -> Bool {
        s.complete && s.keep >= keep && s.window >= window && (s.keepsLatest || !keepsLatest)
    }
}

/// Collects signals while compiling; slot order is first-use order, so it is deterministic.
struct SignalRegistry {
    var specs: [SignalSpec] = []
    private var slots: [UInt64: Int] = [:]

    /// The slot of `type [where filter]`, or of the value signal `type.field [where filter]`. A
    /// counting signal's key is the same as before value signals existed, so stored states still match.
    mutating func use(type: String, filter: CNode?, field: [String]? = nil) -> Int {
        let fieldPart = field.map { "\u{1f}" + $0.joined(separator: ".") } ?? ""
        let key = stableHash(type + "\u{1f}" + (filter?.text ?? "") + fieldPart)
        if let i = slots[key] { return i }
        specs.append(SignalSpec(key: key, eventType: type, filter: filter?.text, field: field, keep: 0, window: 0, keepsLatest: false, predicate: filter))
        slots[key] = specs.count - 1
        return specs.count - 1
    }

    /// The type and filter of a slot, for explanations.
    func ref(_ slot: Int) -> SignalRef { SignalRef(type: specs[slot].eventType, filter: specs[slot].predicate) }

    mutating func need(_ slot: Int, keep: Int? = nil, window: Int64? = nil, latest: Bool = false) {
        if let keep { specs[slot].keep = max(specs[slot].keep, min(keep, SignalState.maxTimesPerSignal)) }
        if let window { specs[slot].window = max(specs[slot].window, window) }
        if latest { specs[slot].keepsLatest = true }
    }
}

/// Everything whose truth can change with time alone, collected from stage, segment and suppress
/// rules; `next_evaluation_at` derives candidate instants from these. Each atom names the rule it
/// belongs to (an index into `EvaluationPlan.rules`; `alwaysProbe` for band limits), so a candidate
/// only costs a full settle when one of its rules actually changes value.
struct TimeAtoms: Sendable {
    static let alwaysProbe = -1

    /// A count over a window: it drops when an occurrence leaves the window, but a comparison with a
    /// constant only flips when the k-th most recent occurrence leaves, for the `ranks` k its
    /// thresholds need (nil: every occurrence matters, e.g. a count used in arithmetic).
    struct Window: Hashable, Sendable { var slot: Int; var ms: Int64; var ranks: [Int]?; var rule: Int }
    /// `since(x) op ms` flips at latest + ms (+ 1 ms).
    struct Since: Hashable, Sendable { var slot: Int; var ms: Int64; var rule: Int }
    /// `membership.age op ms` in the exit of `segment`.
    struct Age: Hashable, Sendable { var ms: Int64; var segment: Int; var rule: Int }
    /// `lead.score op value`, or a band limit: the decaying score crosses it.
    struct Score: Hashable, Sendable { var value: Double; var rule: Int }

    var windows: [Window] = []
    var since: [Since] = []
    var ages: [Age] = []
    var scores: [Score] = []

    mutating func add(window slot: Int, _ ms: Int64, ranks: [Int]?, rule: Int) {
        guard let i = windows.firstIndex(where: { $0.slot == slot && $0.ms == ms && $0.rule == rule }) else {
            windows.append(Window(slot: slot, ms: ms, ranks: ranks.map { Array(Set($0)).sorted() }, rule: rule))
            return
        }
        if let old = windows[i].ranks, let ranks { windows[i].ranks = Array(Set(old + ranks)).sorted() } else { windows[i].ranks = nil }
    }
    mutating func add(_ a: Since) { if !since.contains(a) { since.append(a) } }
    mutating func add(_ a: Age) { if !ages.contains(a) { ages.append(a) } }
    mutating func add(_ a: Score) { if !scores.contains(a) { scores.append(a) } }
}
