import Foundation
import Yams

extension CaseFile {
    /// Reads a case file's text. Throws the first problem with its line and column; unknown keys
    /// are refused so that a typo never turns into a check that silently passes.
    public static func parse(yaml: String, fileName: String) throws -> CaseFile {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw CaseDiagnostic(line: 1, column: 1, message: "the file is empty: expected `cases:` with a list of cases")
            }
            root = node
        } catch let error as YamlError {
            throw CaseDiagnostic(yamlError: error)
        }
        let top = CaseNode(node: root)
        let list: CaseNode
        if case .sequence = root {
            list = top
        } else {
            try top.checkKeys(["cases"], in: "the case file")
            guard let cases = try top.pairs("the case file").first(where: { $0.key == "cases" })?.value else {
                throw top.error("expected `cases:` with a list of cases")
            }
            list = cases
        }
        return CaseFile(fileName: fileName, cases: try list.items("cases").map(parseCase))
    }

    static func parseCase(_ node: CaseNode) throws -> TestCase {
        try node.checkKeys(["name", "start", "lead", "sweep", "steps"], in: "a case")
        let fields = Dictionary(try node.pairs("a case"), uniquingKeysWith: { first, _ in first })
        guard let name = try fields["name"]?.string("name") else { throw node.error("a case needs a `name`") }
        guard let startNode = fields["start"] else { throw node.error("case '\(name)' needs a `start` instant") }
        let start = try CaseTime.parse(startNode, start: nil, what: "start")
        guard let stepsNode = fields["steps"] else { throw node.error("case '\(name)' needs `steps`") }
        var steps: [CaseStep] = []
        for stepNode in try stepsNode.items("steps") {
            let step = try parseStep(stepNode, start: start)
            if let previous = steps.last, step.evaluatedAt < previous.evaluatedAt {
                throw stepNode.error("steps must be in time order: this one is evaluated at \(CaseTime.format(step.evaluatedAt)), before the previous step (\(CaseTime.format(previous.evaluatedAt))); to send a late event, give it `received:`")
            }
            steps.append(step)
        }
        return TestCase(
            name: name, line: node.line, start: start,
            lead: try fields["lead"]?.object("lead") ?? [:],
            sweep: try fields["sweep"]?.bool("sweep") ?? true,
            steps: steps)
    }

    static let stepKeys: Set<String> = [
        "at", "received", "track", "page", "identify", "properties", "context", "traits", "status", "expect",
    ]

    static func parseStep(_ node: CaseNode, start: Date) throws -> CaseStep {
        try node.checkKeys(stepKeys, in: "a step")
        let fields = Dictionary(try node.pairs("a step"), uniquingKeysWith: { first, _ in first })
        guard let atNode = fields["at"] else { throw node.error("a step needs `at` (an instant or an offset like +2d)") }
        let at = try CaseTime.parse(atNode, start: start, what: "at")
        let kinds = ["track", "page", "identify", "status"].filter { fields[$0] != nil }
        guard kinds.count <= 1 else {
            throw node.error("a step does one thing: found \(kinds.joined(separator: " and ")); split it into steps")
        }
        var action = CaseAction.evaluate
        if let kind = kinds.first, kind == "status" {
            action = .setStatus(try fields["status"]!.string("status"))
        } else if let kind = kinds.first {
            var event = CaseEvent(
                kind: kind, name: nil,
                properties: try fields["properties"]?.object("properties") ?? [:],
                context: try fields["context"]?.object("context") ?? [:],
                traits: try fields["traits"]?.object("traits") ?? [:])
            let body = fields[kind]!
            switch kind {
            case "track":
                event.name = try body.string("track")
            case "page":
                let path = try body.string("page")
                if event.properties["path"] == nil { event.properties["path"] = .string(path) }
            default:
                if case .mapping = body.node {
                    event.traits.merge(try body.object("identify")) { _, new in new }
                }
            }
            var received = at
            if let node = fields["received"] { received = try CaseTime.parse(node, start: start, what: "received") }
            guard received >= at else { throw fields["received"]!.error("`received` cannot be before `at`") }
            action = .event(event, received: received)
        } else {
            for key in ["properties", "context", "traits", "received"] where fields[key] != nil {
                throw fields[key]!.error("`\(key)` belongs to an event step (track, page or identify)")
            }
        }
        let expect = try fields["expect"].map { try CaseExpectation.parse($0, start: start) }
        if case .evaluate = action, expect == nil {
            throw node.error("a step needs an event (track, page, identify), a `status`, or an `expect`")
        }
        return CaseStep(line: node.line, column: node.column, at: at, action: action, expect: expect)
    }
}

extension CaseStep {
    /// When the engine evaluates this step: an event's receipt time, else `at`.
    var evaluatedAt: Date {
        if case let .event(_, received) = action { return received }
        return at
    }
}
