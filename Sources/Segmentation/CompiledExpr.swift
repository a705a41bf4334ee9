/// Static types of the rule language. `dynamic` is the type of free-form paths
/// (`lead.traits.*`, `event.properties.*`, `event.context.*`), checked at run time.
indirect enum VType: Equatable, Sendable {
    case bool, number, string, duration, timestamp, null, dynamic
    case list(VType)

    /// Words a marketer knows.
    var name: String {
        switch self {
        case .bool: return "true/false"
        case .number: return "number"
        case .string: return "text"
        case .duration: return "duration"
        case .timestamp: return "timestamp"
        case .null: return "null"
        case .dynamic: return "value"
        case .list(let e): return e == .dynamic ? "list" : "list of \(e.name)"
        }
    }
}

/// Mutable context of one evaluation, shared by all compiled closures (one allocation per call,
/// and one for its lead's cell).
/// Its properties skip the run-time exclusivity check (`@exclusivity(unchecked)`): the engine is
/// single-threaded per evaluation and never holds overlapping accesses, and the check was about a
/// tenth of an evaluation.
final class EvalEnv {
    /// The lead, kept in a cell of its own so that `takeLead()` can move it out: a stored property
    /// had to be left holding something, a copy of `LeadState.vacant` (twenty-odd retains, and as
    /// many releases when the environment went away; docs/benchmarks/backtest.md). Read and
    /// changed in place through addressors, without exclusivity checks like the properties below.
    private let leadCell: UnsafeMutablePointer<LeadState>
    /// False once `takeLead()` has moved the lead out of `leadCell`.
    private var holdsLead = true
    var lead: LeadState {
        unsafeAddress { UnsafePointer(leadCell) }
        unsafeMutableAddress { leadCell }
    }
    @exclusivity(unchecked) var event: ResolvedEvent?
    @exclusivity(unchecked) var now: Int64
    /// Series aligned with `Ruleset.signals` (index = signal slot).
    @exclusivity(unchecked) var series: [SignalSeries]
    /// Current membership by segment index, updated in dependency order during evaluation.
    @exclusivity(unchecked) var members: [Bool]
    /// Entered-at by segment index (nil: not a member), kept in step with `members`.
    @exclusivity(unchecked) var entered: [Int64?]
    /// Entered-at of the segment whose `exit` is being evaluated (for `membership.age`).
    @exclusivity(unchecked) var enteredAt: Int64?
    /// Whether the evaluation explains itself (`Engine.explains`): texts only an explanation
    /// reads are not built otherwise.
    var explains = true

    /// The lead, moved out (the environment must not be used for rules after, nor take it twice).
    func takeLead() -> LeadState {
        precondition(holdsLead, "EvalEnv.takeLead() called twice")
        holdsLead = false
        return leadCell.move()
    }

    init(lead: consuming LeadState, event: ResolvedEvent?, now: Int64, series: [SignalSeries], entered: [Int64?]) {
        leadCell = .allocate(capacity: 1)
        leadCell.initialize(to: lead)
        self.event = event; self.now = now; self.series = series
        self.entered = entered; self.members = entered.map { $0 != nil }
    }

    deinit {
        if holdsLead { leadCell.deinitialize(count: 1) }
        leadCell.deallocate()
    }
}

typealias EvalFn = @Sendable (EvalEnv) -> RV

/// The event type and filter a function counts (see `CNode.signal`).
struct SignalRef: Sendable {
    let type: String
    let filter: CNode?
}

/// A compiled expression node: a closure plus what explanations need (canonical text, children).
final class CNode: Sendable {
    enum Kind: Sendable, Equatable {
        case literal, path, call, not, logic(BinaryOp), compare(BinaryOp), arithmetic, list
    }
    let kind: Kind
    let type: VType
    let text: String
    let children: [CNode]
    let eval: EvalFn
    /// The value when the node does not depend on the lead, the event or time.
    let constant: RV?
    /// For `count`/`since`/`sum`/… the counted event type and `where` filter, so an explanation
    /// can show the values of the event that matched.
    let signal: SignalRef?

    init(kind: Kind, type: VType, text: String, children: [CNode] = [], constant: RV? = nil, signal: SignalRef? = nil,
         eval: @escaping EvalFn) {
        self.kind = kind; self.type = type; self.text = text; self.children = children
        self.constant = constant; self.signal = signal; self.eval = eval
    }

    /// A node that always yields `value`.
    static func literal(_ value: RV, type: VType, text: String) -> CNode {
        CNode(kind: .literal, type: type, text: text, constant: value, eval: { _ in value })
    }
}

/// A compiled rule (`when`, `enter`, `exit`, a suppress condition) with its source text and place.
public struct Rule: Sendable {
    /// The rule as written, normalised (canonical spacing and quoting).
    public let text: String
    /// Where the rule starts in the YAML file.
    public let location: SourceLocation
    let node: CNode

    func holds(_ env: EvalEnv) -> Bool { node.eval(env).isTrue }
}
