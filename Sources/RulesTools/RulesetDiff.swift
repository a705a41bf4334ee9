import Segmentation
import Yams

/// What changed between two ruleset texts, by meaning rather than by line: segments, their routes
/// and owners, signals, statuses, scoring rules, bands, suppressions, teams and every other
/// section, each added, removed or changed with its old and new text. Comments, key order inside
/// a mapping and flow or block style do not count. Pure; `leadrouter rules diff` prints it and
/// `GET /v1/rulesets/{a}/diff/{b}` answers it.
public struct RulesetDiff: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        /// `segment`, `route`, `owner`, `signal`, `status`, `scoring_rule`, `band`, `scoring`,
        /// `suppression`, `team`, or `section` (any other top-level key, compared whole).
        public var kind: String
        /// The segment, signal, status event, rule, band, channel, team or section.
        public var name: String
        /// `added`, `removed` or `changed`.
        public var change: String
        /// The text before and after (one line; nil on the side where it does not exist).
        public var old: String?
        public var new: String?
    }

    public var changes: [Change]

    /// The two texts must load (throws the loader's error, with file names `old` and `new`).
    public init(old: String, new: String, oldName: String = "old", newName: String = "new") throws {
        let oldRules = try Ruleset.load(yaml: old, fileName: oldName).ruleset
        let newRules = try Ruleset.load(yaml: new, fileName: newName).ruleset
        let a = try Yams.compose(yaml: old)?.mapping ?? [:], b = try Yams.compose(yaml: new)?.mapping ?? [:]
        var changes: [Change] = []
        func compare(_ kind: String, _ before: [(String, String)], _ after: [(String, String)]) {
            let old = Dictionary(before, uniquingKeysWith: { first, _ in first })
            let new = Dictionary(after, uniquingKeysWith: { first, _ in first })
            var seen = Set<String>()
            for (name, _) in before + after where seen.insert(name).inserted {
                switch (old[name], new[name]) {
                case (nil, let text?): changes.append(Change(kind: kind, name: name, change: "added", old: nil, new: text))
                case (let text?, nil): changes.append(Change(kind: kind, name: name, change: "removed", old: text, new: nil))
                case (let x?, let y?) where x != y: changes.append(Change(kind: kind, name: name, change: "changed", old: x, new: y))
                default: break
                }
            }
        }
        let sa = Self.segments(a), sb = Self.segments(b)
        compare("segment", sa.map { ($0.name, $0.rest) }, sb.map { ($0.name, $0.rest) })
        compare("route", sa.compactMap { s in s.route.map { (s.name, $0) } }, sb.compactMap { s in s.route.map { (s.name, $0) } })
        compare("owner", sa.compactMap { s in s.owner.map { (s.name, $0) } }, sb.compactMap { s in s.owner.map { (s.name, $0) } })
        compare("signal", Self.signals(oldRules), Self.signals(newRules))
        compare("status", Self.entries(a["statuses"]?.mapping?["on_event"]), Self.entries(b["statuses"]?.mapping?["on_event"]))
        compare("status", Self.entries(a["statuses"], except: ["on_event"]), Self.entries(b["statuses"], except: ["on_event"]))
        compare("scoring_rule", Self.list(a["scoring"]?.mapping?["rules"], by: "when"), Self.list(b["scoring"]?.mapping?["rules"], by: "when"))
        compare("band", Self.list(a["scoring"]?.mapping?["bands"], by: "action"), Self.list(b["scoring"]?.mapping?["bands"], by: "action"))
        compare("scoring", Self.entries(a["scoring"], except: ["rules", "bands"]), Self.entries(b["scoring"], except: ["rules", "bands"]))
        compare("suppression", Self.entries(a["suppress"]), Self.entries(b["suppress"]))
        compare("team", Self.entries(a["teams"]), Self.entries(b["teams"]))
        let detailed: Set<String> = ["version", "segments", "statuses", "scoring", "suppress", "teams"]
        compare("section", Self.entries(.mapping(a), except: detailed), Self.entries(.mapping(b), except: detailed))
        self.changes = changes
    }

    /// Every change as `rules diff` prints it: `changed segment x:` then `- old` / `+ new` lines.
    public var lines: [String] {
        if changes.isEmpty { return ["no differences"] }
        return changes.flatMap { c in
            ["\(c.change) \(c.kind) \(c.name)"] + (c.old.map { ["  - \($0)"] } ?? []) + (c.new.map { ["  + \($0)"] } ?? [])
        }
    }

    struct SegmentParts { var name: String; var rest: String; var route: String?; var owner: String? }

    /// Segments by name; a segment's own text leaves out its route and owner (reported apart).
    static func segments(_ root: Node.Mapping) -> [SegmentParts] {
        (root["segments"]?.sequence ?? []).compactMap { node in
            guard let mapping = node.mapping, let name = mapping["name"]?.string else { return nil }
            let rest = Node.Mapping(mapping.filter { !["route", "owner"].contains($0.key.string ?? "") })
            return SegmentParts(name: name, rest: canonical(.mapping(rest)), route: mapping["route"].map(canonical),
                                owner: mapping["owner"].map(canonical))
        }
    }

    /// Signals by what they count; their text says what coverage they need.
    static func signals(_ ruleset: Ruleset) -> [(String, String)] {
        ruleset.signals.map { spec in
            (spec.description, "\(spec.description), window \(spec.window / 1000)s, keeps \(spec.keep)\(spec.keepsLatest ? " and the latest" : "")")
        }
    }

    /// A mapping's entries by key (`except` left out).
    static func entries(_ node: Node?, except: Set<String> = []) -> [(String, String)] {
        (node?.mapping ?? [:]).compactMap { key, value in
            guard let name = key.string, !except.contains(name) else { return nil }
            return (name, canonical(value))
        }
    }

    /// A list's items named by their `key` value (the second with the same name gets ` #2`).
    static func list(_ node: Node?, by key: String) -> [(String, String)] {
        var counts: [String: Int] = [:]
        return (node?.sequence ?? []).map { item in
            let base = item.mapping?[key].map(canonical) ?? "(no \(key))"
            counts[base, default: 0] += 1
            let n = counts[base]!
            return (n == 1 ? base : "\(base) #\(n)", canonical(item))
        }
    }

    /// One-line flow text: mapping keys sorted, sequences in order, scalars as written.
    static func canonical(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .mapping(let mapping):
            let pairs = mapping.map { (canonical($0.key), canonical($0.value)) }.sorted { $0.0 < $1.0 }
            return "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .sequence(let sequence): return "[" + sequence.map(canonical).joined(separator: ", ") + "]"
        case .alias: return "*alias"
        }
    }
}
