/// Which parts of a ruleset read an event type or a lead field: the segments whose entry or exit
/// rule reads it (and so the routes of those segments, and their owners), the scoring rules and
/// the stages. Drift alerts and the data inventory name them, so an operator sees what a renamed
/// tracking call or a field gone missing breaks. Pure: computed from the rules' text once per
/// ruleset (each rule is parsed again; the compiled form keeps no syntax tree).
public struct Lineage: Sendable {
    /// The readers of one event type or field.
    public struct Readers: Sendable, Equatable {
        public var segments: [String] = []
        public var scoringRules: [String] = []
        public var stages: [String] = []
        /// `sales:<queue>`, `email:<sequence>`, `ads:<audience>` of the reading segments.
        public var routes: [String] = []
        /// Owners of the reading segments (`segments[].owner`), for who to tell.
        public var owners: [String] = []

        public init() {}
        public var isEmpty: Bool { segments.isEmpty && scoringRules.isEmpty && stages.isEmpty }
    }

    /// What one rule reads.
    public struct Reads: Sendable, Equatable {
        /// Canonical event types (`count(x, …)`, `since(x)`, `sum(x.prop, …)`, `event.type == "x"`).
        public var eventTypes: Set<String> = []
        /// Lead fields as rules name them, without `lead.` (`email`, `country`, `company.domain`,
        /// `traits.plan`; `source.first` and `source.last` count as `source`).
        public var leadFields: Set<String> = []
        public init() {}
    }

    private var byEventType: [String: Readers] = [:]
    private var byField: [String: Readers] = [:]

    public init(ruleset: Ruleset) {
        for segment in ruleset.segments {
            let reads = Self.reads([segment.enter.text] + (segment.exit.map { [$0.text] } ?? []))
            var routes: [String] = []
            if let sales = segment.route.sales { routes.append("sales:\(sales.queue)") }
            if let email = segment.route.email { routes.append("email:\(email.sequence)") }
            if let ads = segment.route.ads { routes.append("ads:\(ads.audience)") }
            for e in segment.route.experiments { routes.append("\(e.channel):experiment \(e.name)") }
            add(reads) { readers in
                readers.segments.append(segment.name)
                readers.routes += routes
                if let owner = segment.owner, !readers.owners.contains(owner) { readers.owners.append(owner) }
            }
        }
        for rule in ruleset.scoring.rules { add(Self.reads([rule.when.text])) { $0.scoringRules.append(rule.key) } }
        for stage in ruleset.stages { add(Self.reads([stage.when.text])) { $0.stages.append(stage.stage) } }
    }

    /// The readers of canonical event type `type` (empty when nothing reads it).
    public func readers(ofEventType type: String) -> Readers { byEventType[type] ?? Readers() }
    /// The readers of lead field `field` (as in `Reads.leadFields`).
    public func readers(ofField field: String) -> Readers { byField[field] ?? Readers() }
    /// Every event type some rule reads, sorted.
    public var eventTypesRead: [String] { byEventType.keys.sorted() }
    /// Every lead field some rule reads, sorted.
    public var fieldsRead: [String] { byField.keys.sorted() }

    private mutating func add(_ reads: Reads, _ note: (inout Readers) -> Void) {
        for type in reads.eventTypes { note(&byEventType[type, default: Readers()]) }
        for field in reads.leadFields { note(&byField[field, default: Readers()]) }
    }

    /// What the rules of `texts` read (texts that do not parse read nothing: a loaded ruleset's do).
    public static func reads(_ texts: [String]) -> Reads {
        var reads = Reads()
        for text in texts {
            guard let expr = try? Parser.parse(text) else { continue }
            collect(expr, into: &reads)
        }
        return reads
    }

    private static func collect(_ e: Expr, into reads: inout Reads) {
        switch e.kind {
        case .number, .duration, .string, .bool, .null: break
        case .list(let items): for item in items { collect(item, into: &reads) }
        case .path(let parts):
            if parts.first == "lead", parts.count >= 2 {
                let rest = parts.dropFirst()
                let field = rest.first == "source" ? "source" : rest.joined(separator: ".")
                reads.leadFields.insert(field)
            }
        case .eventType(let type), .eventField(let type, _): reads.eventTypes.insert(type)
        case .not(let inner), .negate(let inner): collect(inner, into: &reads)
        case .binary(let op, let l, let r):
            if op == .eq || op == .in { eventTypeComparison(l, r, into: &reads); eventTypeComparison(r, l, into: &reads) }
            collect(l, into: &reads); collect(r, into: &reads)
        case .call(_, let args, let whereClause):
            for arg in args { collect(arg, into: &reads) }
            if let whereClause { collect(whereClause, into: &reads) }
        }
    }

    /// `event.type == "x"` and `event.type in ["x", "y"]`.
    private static func eventTypeComparison(_ path: Expr, _ value: Expr, into reads: inout Reads) {
        guard case .path(let parts) = path.kind, parts == ["event", "type"] else { return }
        switch value.kind {
        case .string(let type): reads.eventTypes.insert(type)
        case .list(let items):
            for item in items { if case .string(let type) = item.kind { reads.eventTypes.insert(type) } }
        default: break
        }
    }
}
