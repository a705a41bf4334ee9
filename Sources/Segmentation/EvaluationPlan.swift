/// A flat, reference-typed view of a ruleset for the hot path: settling rules touches no struct
/// copies and looks up no names, which matters because `next_evaluation_at` settles several times.
final class EvaluationPlan: Sendable {
    final class Seg: Sendable {
        let name: String
        let priority: Int
        let enter: EvalFn
        let exit: EvalFn?
        let channels: Set<String>
        /// `channels` as bits (`channelBit`).
        let channelBits: UInt8
        let hasExit: Bool
        init(_ s: Segment) {
            name = s.name; priority = s.priority; enter = s.enter.node.eval; exit = s.exit?.node.eval
            channels = Seg.channels(of: s.route)
            channelBits = channels.reduce(0) { $0 | Seg.channelBit($1) }
            hasExit = s.exit != nil
        }
        static func channels(of route: Route) -> Set<String> {
            Set([route.email.map { _ in "email" }, route.ads.map { _ in "ads" }, route.sales.map { _ in "sales" }].compactMap { $0 } + route.experiments.map(\.channel))
        }

        static func channelBit(_ channel: String) -> UInt8 {
            switch channel {
            case "email": return 1
            case "ads": return 2
            case "sales": return 4
            default: return 0
            }
        }
    }
    /// What an incoming event name resolves to, found with one lookup per event.
    struct EventInfo: Sendable {
        let type: String
        let known: Bool
        /// Signal slots of this type (not counting `anySlots`).
        let slots: [Int]
        /// `statuses.on_event` entries for this type.
        let status: [StatusRule]
        /// The scoring rules that can hold for this type: a rule whose `when` requires another
        /// `event.type` is never evaluated for it.
        let scoreRules: [Int]
    }
    /// A time-sensitive rule: its closure and, for enter/exit, its segment (for `membership.age`).
    struct RuleEntry: Sendable {
        enum Role: Sendable, Equatable { case other, enter, exit, stage(Int), suppress(String) }
        let fn: EvalFn
        let segment: Int?
        let role: Role
    }
    struct Check: Sendable { let label: String; let text: String; let fn: EvalFn }

    let stages: [Check]
    let segments: [Seg]
    let order: [Int]
    let suppress: [Check]
    /// Signal slots that match every event (`inactive`); by type they are in `events`.
    let anySlots: [Int]
    /// Per signal slot what its series must keep.
    let signalNeeds: [SignalNeeds]
    /// Per scoring rule its `when`.
    let scoreRuleFns: [Fn]
    /// The scoring rules checked for an event of an unknown type: all (its raw name is its type).
    let allScoreRules: [Int]
    /// Per signal slot its `where` filter (the type is matched through `EventInfo.slots`).
    let signalFilters: [Fn?]
    /// Per signal slot the property path a value signal keeps (nil: the signal only counts).
    let signalFields: [[String]?]
    /// Time-sensitive rules by id (see `TimeAtoms`).
    let rules: [RuleEntry]
    /// Rule ids of the stage rules, in order.
    let stageRules: [Int]
    /// Incoming event name (alias or known type) → its resolution; a name not here is unknown.
    let events: [String: EventInfo]
    /// `events` for `Engine.resolve`, once per event and engine: the name found in a `NameTable`
    /// (FNV-1a) over `eventInfos` instead of hashed with SipHash, about 550 instructions a lookup
    /// (docs/benchmarks/backtest.md). The same resolution.
    let eventNames: NameTable
    let eventInfos: [EventInfo]
    /// Segment indices sorted by name, so decisions list names sorted without comparing strings.
    let byName: [Int]
    /// Segment name → index, for stored memberships.
    let segmentNames: NameTable
    /// `scoring.half_life` as explanations write it.
    let halfLifeText: String?
    /// `scoring.half_life` in ms (nil: no decay).
    let halfLifeMs: Int64?
    /// Per rule id (see `rules`) its closure and plain facts, so `next_evaluation_at` reads no enum
    /// payloads or strings per candidate.
    let ruleFns: [Fn]
    let ruleFacts: [RuleFacts]
    /// Per segment the rule id of its `enter` and `exit` (-1: none or not exactly one), and per
    /// stage rule its id (-1 likewise): `next_evaluation_at` reads their remembered values instead
    /// of settling again (`Engine.outcomeDiffers`).
    let enterRule: [Int]
    let exitRule: [Int]
    let stageRule: [Int]
    /// The time atoms, flattened into trivial values (no array per atom to retain). Window and
    /// `since` atoms are in signal slot order, each slot's atoms being `windowAtomsOfSlot[slot]`
    /// and `sinceAtomsOfSlot[slot]`: `next_evaluation_at` visits only the slots whose series has
    /// occurrences, not every atom (most count events a lead never had).
    let windowAtoms: [WindowAtom]
    let windowRanks: [Int]
    let windowAtomsOfSlot: [Range<Int>]
    let sinceAtoms: [TimeAtoms.Since]
    let sinceAtomsOfSlot: [Range<Int>]
    let ageAtoms: [TimeAtoms.Age]
    let scoreAtoms: [TimeAtoms.Score]

    /// A compiled rule's closure in a struct: an array of bare closures stores them maximally
    /// abstracted, so every call would go through a reabstraction thunk; a struct field keeps the
    /// closure as compiled.
    struct Fn: Sendable {
        let call: EvalFn
        init(_ call: @escaping EvalFn) { self.call = call }
        @inline(__always) func holds(_ env: EvalEnv) -> Bool { call(env).isTrue }
    }

    /// Stage rules, segment rules, priorities, suppressions and bands as flat arrays for `settle`.
    let stageFns: [Fn]
    let stageLabels: [String]
    /// Per stage rule, the first rule with the same label: outcomes compare stages, not rules.
    let stageID: [Int]
    let enterFns: [Fn]
    let exitFns: [Fn?]
    /// `routing.all_segments` as channel bits.
    let allSegmentBits: UInt8
    /// Whether any segment or band route runs an experiment (else holdouts need no bookkeeping).
    let hasExperiments: Bool
    /// Per segment whether it has an `exit` rule.
    let hasExit: [Bool]
    let priorities: [Int]
    /// Position of each segment in name order (ties of priority go to the first name).
    let nameRank: [Int]
    let suppressFns: [Fn]
    let suppressBits: [UInt8]
    let bandLimits: [Double?]
    let bandActions: [String]
    /// Per band, the first band with the same action (its own index when some band has a route,
    /// so a change of band changes the outcome whenever it can change the band's routes).
    let bandID: [Int]
    /// Per band, the channels of its `route` (0 without one).
    let bandRouteBits: [UInt8]

    /// The `event.type` a rule requires: `event.type == "x"`, alone or as a part of an `and`
    /// (nil: any type may satisfy it).
    static func requiredEventType(_ n: CNode) -> String? {
        switch n.kind {
        case .compare(.eq):
            let (a, b) = (n.children[0], n.children[1])
            for (path, other) in [(a, b), (b, a)] where path.kind == .path && path.text == "event.type" {
                if case .str(let type)? = other.constant { return type }
            }
            return nil
        case .logic(.and):
            return n.children.lazy.compactMap(requiredEventType).first
        default:
            return nil
        }
    }

    /// Channels some current segment acts on: the primary's route, plus, for the channels of
    /// `routing.all_segments`, the routes of every other member. Suppress conditions only matter
    /// for these.
    func routedChannels(members: [Bool], primary: Int?, band: Int) -> UInt8 {
        guard let primary else { return 0 }
        var bits = segments[primary].channelBits | (band >= 0 ? bandRouteBits[band] : 0)
        if allSegmentBits != 0 {
            for i in members.indices where members[i] { bits |= segments[i].channelBits & allSegmentBits }
        }
        return bits
    }

    /// The band index for a score: the first whose `below` exceeds it, else the last (-1: no bands).
    func band(for score: Double) -> Int {
        for (k, limit) in bandLimits.enumerated() where limit.map({ score < $0 }) ?? true { return k }
        return -1
    }

    /// What `next_evaluation_at` needs about a rule.
    struct RuleFacts: Sendable {
        enum Kind: UInt8, Sendable { case other, enter, exit, stage, suppress }
        var kind: Kind = .other
        /// Segment of an enter/exit rule, else -1.
        var segment: Int = -1
        /// Stage index of a stage rule.
        var stage: Int = 0
        /// Channel bit of a suppress rule (`Seg.channelBit`).
        var channel: UInt8 = 0
        /// Whether the rule has time atoms (its value can change with time alone).
        var timeDependent = false
    }

    /// `TimeAtoms.Window` with its ranks as a range of `windowRanks` (`hasRanks` false: every occurrence matters).
    struct WindowAtom: Sendable { var slot: Int; var ms: Int64; var rule: Int; var ranks: Range<Int>; var hasRanks: Bool }

    init(stages: [StageRule], segments: [Segment], order: [Int], suppress: [Suppression], signals: [SignalSpec],
         rules: [RuleEntry], knownTypes: [String], aliases: [String: String], statusOnEvent: [String: [StatusRule]], halfLife: Duration?,
         atoms: TimeAtoms, timeDependentRules: Set<Int>, bands: [Band], allSegmentChannels: [String], scoreRules: [ScoreRule]) {
        self.rules = rules
        var stageIDs = Array(repeating: TimeAtoms.alwaysProbe, count: stages.count)
        for (id, r) in rules.enumerated() { if case .stage(let i) = r.role, i < stageIDs.count { stageIDs[i] = id } }
        self.stageRules = stageIDs
        self.stages = stages.map { Check(label: $0.stage, text: $0.when.text, fn: $0.when.node.eval) }
        self.segments = segments.map(Seg.init)
        self.order = order
        self.suppress = suppress.map { Check(label: $0.channel, text: $0.reason ?? $0.condition.text, fn: $0.condition.node.eval) }
        var byType: [String: [Int]] = [:]
        var any: [Int] = []
        for (i, s) in signals.enumerated() {
            if s.eventType == "*" { any.append(i) } else { byType[s.eventType, default: []].append(i) }
        }
        anySlots = any
        signalFilters = signals.map { $0.predicate.map { Fn($0.eval) } }
        signalFields = signals.map(\.field)
        signalNeeds = signals.map(\.needs)
        scoreRuleFns = scoreRules.map { Fn($0.when.node.eval) }
        let scoreRuleTypes = scoreRules.map { EvaluationPlan.requiredEventType($0.when.node) }
        allScoreRules = Array(scoreRules.indices)
        func info(_ type: String) -> EventInfo {
            EventInfo(type: type, known: true, slots: byType[type] ?? [], status: statusOnEvent[type] ?? [],
                      scoreRules: scoreRuleTypes.indices.filter { scoreRuleTypes[$0].map { $0 == type } ?? true })
        }
        var events: [String: EventInfo] = [:]
        for t in knownTypes { events[t] = info(t) }
        for (name, target) in aliases { events[name] = info(target) }
        self.events = events
        let eventKeys = Array(events.keys)
        eventNames = NameTable(eventKeys)
        eventInfos = eventKeys.map { events[$0]! }
        byName = segments.indices.sorted { segments[$0].name < segments[$1].name }
        segmentNames = NameTable(segments.map(\.name))
        halfLifeText = halfLife?.description
        stageFns = self.stages.map { Fn($0.fn) }
        stageLabels = self.stages.map(\.label)
        enterFns = self.segments.map { Fn($0.enter) }
        exitFns = self.segments.map { $0.exit.map(Fn.init) }
        hasExit = self.segments.map(\.hasExit)
        allSegmentBits = allSegmentChannels.reduce(0) { $0 | Seg.channelBit($1) }
        hasExperiments = segments.contains { !$0.route.experiments.isEmpty } || bands.contains { !($0.route?.experiments.isEmpty ?? true) }
        priorities = self.segments.map(\.priority)
        var rank = [Int](repeating: 0, count: segments.count)
        for (position, i) in byName.enumerated() { rank[i] = position }
        nameRank = rank
        suppressFns = self.suppress.map { Fn($0.fn) }
        suppressBits = self.suppress.map { Seg.channelBit($0.label) }
        bandLimits = bands.map(\.below)
        bandActions = bands.map(\.action)
        let labels = stageLabels, actions = bandActions
        stageID = labels.map { label in labels.firstIndex(of: label)! }
        bandRouteBits = bands.map { b in b.route.map { Seg.channels(of: $0).reduce(0) { $0 | Seg.channelBit($1) } } ?? 0 }
        bandID = bands.contains { $0.route != nil } ? Array(bands.indices) : actions.map { action in actions.firstIndex(of: action)! }
        halfLifeMs = halfLife?.milliseconds
        ruleFns = rules.map { Fn($0.fn) }
        ruleFacts = rules.enumerated().map { id, r in
            var f = RuleFacts()
            f.segment = r.segment ?? -1
            f.timeDependent = timeDependentRules.contains(id)
            switch r.role {
            case .other: f.kind = .other
            case .enter: f.kind = .enter
            case .exit: f.kind = .exit
            case .stage(let i): f.kind = .stage; f.stage = i
            case .suppress(let channel): f.kind = .suppress; f.channel = Seg.channelBit(channel)
            }
            return f
        }
        // A role given to two rules (say a route's choice compiled as part of the segment) leaves
        // the id out: the outcome check then evaluates the segment's own closure.
        func ids(_ count: Int, _ key: (RuleEntry) -> Int?) -> [Int] {
            var out = [Int](repeating: -1, count: count)
            var seen = [Bool](repeating: false, count: count)
            for (id, r) in rules.enumerated() {
                guard let k = key(r), k >= 0, k < count else { continue }
                out[k] = seen[k] ? -1 : id
                seen[k] = true
            }
            return out
        }
        enterRule = ids(segments.count) { $0.role == .enter ? $0.segment : nil }
        exitRule = ids(segments.count) { $0.role == .exit ? $0.segment : nil }
        stageRule = ids(stages.count) { if case .stage(let i) = $0.role { return i } else { return nil } }
        var ranks: [Int] = []
        let windows = Self.bySlot(atoms.windows, slots: signals.count, slot: \.slot)
        windowAtoms = windows.atoms.map { w in
            let start = ranks.count
            ranks += w.ranks ?? []
            return WindowAtom(slot: w.slot, ms: w.ms, rule: w.rule, ranks: start..<ranks.count, hasRanks: w.ranks != nil)
        }
        windowAtomsOfSlot = windows.ofSlot
        windowRanks = ranks
        let since = Self.bySlot(atoms.since, slots: signals.count, slot: \.slot)
        sinceAtoms = since.atoms
        sinceAtomsOfSlot = since.ofSlot
        ageAtoms = atoms.ages
        scoreAtoms = atoms.scores
    }

    /// `atoms` in slot order (in their order within a slot), with each slot's range of them.
    static func bySlot<A>(_ atoms: [A], slots: Int, slot: (A) -> Int) -> (atoms: [A], ofSlot: [Range<Int>]) {
        var ordered: [A] = []
        ordered.reserveCapacity(atoms.count)
        var ofSlot: [Range<Int>] = []
        ofSlot.reserveCapacity(slots)
        for s in 0..<slots {
            let start = ordered.count
            ordered += atoms.filter { slot($0) == s }
            ofSlot.append(start..<ordered.count)
        }
        precondition(ordered.count == atoms.count, "a time atom's signal slot is out of range")
        return (ordered, ofSlot)
    }
}
