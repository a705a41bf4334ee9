import Foundation

/// A rules test file: journeys of one lead each, played against a ruleset by `leadrouter rules
/// test`, so that a marketer can pin what a rule change must (and must not) do before deploying it.
/// The format is described in docs/rules-cli.md.
public struct CaseFile: Sendable {
    /// Where the text came from, used in every message.
    public var fileName: String
    /// The cases, in file order.
    public var cases: [TestCase]
}

/// One journey: a lead starting at `start`, then steps in time order.
public struct TestCase: Sendable {
    /// What the journey shows, as written in the file.
    public var name: String
    /// 1-based line of the case in its file.
    public var line: Int
    /// The instant offsets (`+2d`) are counted from.
    var start: Date
    /// Profile fields the lead has before the first step (email, country, company, status, …).
    var lead: [String: CaseValue]
    /// Whether time-only re-evaluations run at each `next_evaluation_at` before a step, as the
    /// service's sweeper does. On by default.
    var sweep: Bool
    /// The steps, in the order they are evaluated.
    var steps: [CaseStep]
}

/// One step of a journey.
struct CaseStep: Sendable {
    /// 1-based line and column of the step in its file.
    var line: Int
    var column: Int
    /// When the step happens (for an event: when it occurred).
    var at: Date
    var action: CaseAction
    /// What the decision of this step must look like, if anything.
    var expect: CaseExpectation?
}

/// What a step does to the lead.
enum CaseAction: Sendable {
    /// An event arrives: it occurred at the step's `at` and is received (evaluated) at `received`.
    case event(CaseEvent, received: Date)
    /// A CRM sets the lead's status (as `PATCH /v1/leads/{id}` does), then the lead is evaluated.
    case setStatus(String)
    /// No event: the lead is re-evaluated at `at`, as the sweeper does when time passes.
    case evaluate
}

/// A Segment-style message in a case file.
struct CaseEvent: Sendable {
    /// `track`, `page` or `identify`.
    var kind: String
    /// The track event's name (before aliases), or the page's name.
    var name: String?
    var properties: [String: CaseValue]
    var context: [String: CaseValue]
    var traits: [String: CaseValue]
}

/// A JSON-like value written in a case file.
enum CaseValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([CaseValue])
    case object([String: CaseValue])

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .number(value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case let .string(value): return value
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .object(fields):
            return "{" + fields.keys.sorted().map { "\($0): \(fields[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }
}

/// The expected parts of a decision; every field left nil is not checked.
struct CaseExpectation: Sendable {
    var stage: String?
    var status: String?
    var band: String?
    var customer: Bool?
    /// Inclusive score range.
    var score: ClosedRange<Double>?
    var segmentsContain: [String]?
    var segmentsNotContain: [String]?
    var segmentsExactly: [String]?
    /// Segments entered (exited) since the previous step, sweeps included; compared as sets.
    var entered: [String]?
    var exited: [String]?
    /// `.some(nil)` expects no primary segment.
    var primarySegment: String??
    /// Expected actions: exactly these channels, each with at least these fields.
    var actions: [ExpectedAction]?
    /// Expected suppressed channels (exactly these), with a reason when given.
    var suppressed: [ExpectedSuppression]?
    /// `.some(nil)` expects no next evaluation.
    var nextEvaluationAt: Date??
}

/// One expected action: its channel and the fields it must carry (others are not checked).
struct ExpectedAction: Sendable {
    var channel: String
    var fields: [String: String]
}

/// One expected suppressed channel, with its reason when the case gives one.
struct ExpectedSuppression: Sendable {
    var channel: String
    var reason: String?
}
