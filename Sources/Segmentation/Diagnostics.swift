/// A place in the ruleset file, 1-based like editors show it.
public struct SourceLocation: Hashable, Sendable, Codable, Comparable {
    /// 1-based line number in the YAML file.
    public var line: Int
    /// 1-based column (Unicode scalars) in the YAML file.
    public var column: Int
    /// Creates a location.
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    /// File order: by line, then column.
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// One problem found while loading a ruleset, pointing at the file position a marketer should edit.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    /// How serious the problem is: errors refuse the ruleset, warnings only inform.
    public enum Severity: String, Sendable, Codable { case error, warning }
    /// The file name passed to the loader (used only in messages).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// What is wrong and what to do about it, in plain words.
    public var message: String
    /// Error or warning.
    public var severity: Severity

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String, severity: Severity = .error) {
        self.file = file; self.line = line; self.column = column; self.message = message; self.severity = severity
    }

    /// `FILE:LINE:COLUMN: message` (warnings prefixed with `warning: `), the format editors and CI understand.
    public var description: String {
        "\(file):\(line):\(column): \(severity == .warning ? "warning: " : "")\(message)"
    }
}

/// Why a ruleset was refused: every error found, not just the first, in file order.
public struct RulesetLoadError: Error, Sendable, CustomStringConvertible {
    /// All errors, sorted by position.
    public var diagnostics: [Diagnostic]
    /// One `FILE:LINE:COLUMN: message` line per diagnostic.
    public var formatted: String { diagnostics.map(\.description).joined(separator: "\n") }
    /// Same as `formatted`.
    public var description: String { formatted }
    /// Creates the error from its diagnostics.
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
}

/// Collects diagnostics during loading; knows the file name so call sites only give positions.
final class DiagnosticSink {
    let file: String
    private(set) var items: [Diagnostic] = []
    init(file: String) { self.file = file }

    func error(_ at: SourceLocation, _ message: String) {
        items.append(Diagnostic(file: file, line: at.line, column: at.column, message: message))
    }
    func warning(_ at: SourceLocation, _ message: String) {
        items.append(Diagnostic(file: file, line: at.line, column: at.column, message: message, severity: .warning))
    }
    var errors: [Diagnostic] { sorted(items.filter { $0.severity == .error }) }
    var warnings: [Diagnostic] { sorted(items.filter { $0.severity == .warning }) }
    var hasErrors: Bool { items.contains { $0.severity == .error } }

    private func sorted(_ d: [Diagnostic]) -> [Diagnostic] {
        // Stable: by position, then by the order found.
        d.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }
}

/// Suggests the closest known word for a typo (`priorty` → `priority`), or nil when nothing is close.
package func suggestion(for word: String, among candidates: [String]) -> String? {
    guard word.count >= 3 else { return nil }
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(word.lowercased(), c.lowercased())
        if d <= max(1, min(3, c.count / 3)), best == nil || d < best!.1 { best = (c, d) }
    }
    return best?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}

/// ` (did you mean `x`?)` or empty.
func didYouMean(_ word: String, _ candidates: [String]) -> String {
    if let s = suggestion(for: word, among: candidates) { return " (did you mean `\(s)`?)" }
    return ""
}
