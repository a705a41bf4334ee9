import Segmentation
/// What `leadrouter rules check FILE` prints for a ruleset text, and its exit status. Kept here,
/// pure, so it is tested without running the CLI; the CLI only reads the file and prints.
public struct RulesCheckReport: Sendable {
    /// Diagnostic lines, `FILE:LINE:COLUMN: message` (warnings with `warning: `), in file order.
    public var diagnostics: [String]
    /// The same diagnostics with their positions (the API answers them as field problems).
    public var items: [Diagnostic]
    /// The closing line: `FILE: ok, 18 segments, 17 signals, 0 warnings`, or `FILE: 2 errors, 1 warning`.
    public var summary: String
    /// 0 when the ruleset loads (warnings allowed), 1 when it has errors.
    public var exitCode: Int32
    /// The loaded ruleset when there were no errors.
    public var loaded: LoadedRuleset?

    /// Loads `yaml` as the service would and describes the outcome.
    public init(yaml: String, fileName: String) {
        do {
            let loaded = try Ruleset.load(yaml: yaml, fileName: fileName)
            let ruleset = loaded.ruleset
            diagnostics = loaded.warnings.map(\.description)
            items = loaded.warnings
            summary = "\(fileName): ok, \(Self.plural(ruleset.segments.count, "segment")), "
                + "\(Self.plural(ruleset.signals.count, "signal")), \(Self.plural(loaded.warnings.count, "warning"))"
            exitCode = 0
            self.loaded = loaded
        } catch {
            let all = error.diagnostics
            let errors = all.filter { $0.severity == .error }.count
            diagnostics = all.map(\.description)
            items = all
            var parts = [Self.plural(errors, "error")]
            if all.count > errors { parts.append(Self.plural(all.count - errors, "warning")) }
            summary = "\(fileName): " + parts.joined(separator: ", ")
            exitCode = 1
            loaded = nil
        }
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
}
