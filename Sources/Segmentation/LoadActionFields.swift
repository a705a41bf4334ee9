import Yams

/// Route fields that may be templates (`{{ lead.path }}`) or `{when, value}` choices.
extension RulesetLoader {
    /// What a route field loaded as: plain text (kept as a `String` on the route), or a template
    /// or choices (an `ActionText`, with `display`, the first value as written, on the route).
    enum FieldValue {
        case plain(String)
        case dynamic(ActionText, display: String)
    }

    /// Loads one route field. `templates: false` refuses `{{ }}` (names that must match something
    /// configured, like a team); `check` validates every plain value (each choice's too).
    func actionField(_ n: Node, _ what: String, templates: Bool, _ c: ExprCompiler,
                     check: (String, Node) -> Void = { _, _ in }) -> FieldValue? {
        switch n {
        case .scalar:
            guard let text = y.string(n, what) else { return nil }
            guard text.contains("{{") else { check(text, n); return .plain(text) }
            guard let t = template(n, text, what, templates: templates, c) else { return nil }
            return .dynamic(ActionText(choices: [.init(when: nil, template: t)]), display: text)
        case .sequence(let items):
            guard !items.isEmpty else {
                sink.error(y.loc(n), "\(what) has an empty list of choices: write `[ { when: '…', value: … }, { value: … } ]`")
                return nil
            }
            var choices: [ActionText.Choice] = []
            var ok = true
            for (k, item) in items.enumerated() {
                guard let m = y.mapping(item, "a choice of \(what)", allowed: ["when", "value"]) else { ok = false; continue }
                let f = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                var when: Rule?
                if let w = f["when"] {
                    when = rule(w, "`when`", RuleScope(name: "a choice's `when`"), c)
                    if when == nil { ok = false }
                } else if k < items.count - 1 {
                    sink.error(y.loc(item), "only the last choice of \(what) may leave out `when` (it is the fallback); later choices would never be used")
                    ok = false
                }
                guard let vn = f["value"] else {
                    sink.error(y.loc(item), "a choice of \(what) needs a `value`")
                    ok = false; continue
                }
                guard let text = y.string(vn, "the `value` of a choice of \(what)") else { ok = false; continue }
                if text.contains("{{") {
                    guard let t = template(vn, text, what, templates: templates, c) else { ok = false; continue }
                    choices.append(.init(when: when, template: t))
                } else {
                    check(text, vn)
                    choices.append(.init(when: when, template: Template(raw: text, parts: [.text(text)])))
                }
            }
            guard ok, let first = choices.first else { return nil }
            return .dynamic(ActionText(choices: choices), display: first.template.raw)
        default:
            sink.error(y.loc(n), "\(what) must be text or a list of choices `[ { when: '…', value: … }, { value: … } ]`")
            return nil
        }
    }

    /// Splits `text` into literal parts and `{{ lead.path }}` holes, each hole compiled; errors
    /// point at the hole's column in the file.
    private func template(_ n: Node, _ text: String, _ what: String, templates: Bool, _ c: ExprCompiler) -> Template? {
        guard let (_, locate) = y.expression(n, what) else { return nil }
        let scalars = Array(text.unicodeScalars)
        guard templates else {
            let at = Template.find("{{", in: scalars, from: 0) ?? 0
            sink.error(locate(at), "\(what) cannot be a template: it must name something configured; use choices to pick one")
            return nil
        }
        var parts: [Template.Part] = []
        var literal = ""
        var i = 0
        var ok = true
        while i < scalars.count {
            guard let open = Template.find("{{", in: scalars, from: i) else {
                literal.unicodeScalars.append(contentsOf: scalars[i...]); break
            }
            literal.unicodeScalars.append(contentsOf: scalars[i..<open])
            guard let close = Template.find("}}", in: scalars, from: open + 2) else {
                sink.error(locate(open), "unclosed `{{` in \(what): write `{{ lead.path }}`")
                return nil
            }
            var start = open + 2, end = close
            while start < end, scalars[start] == " " { start += 1 }
            while end > start, scalars[end - 1] == " " { end -= 1 }
            var path = ""
            path.unicodeScalars.append(contentsOf: scalars[start..<end])
            if path.isEmpty {
                sink.error(locate(open), "empty `{{ }}` in \(what): name a `lead.*` path, e.g. {{ lead.interest.top_category }}")
                ok = false
            } else if let node = c.compileTemplatePath(path, locate: { [start] in locate(start + $0) }) {
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
                parts.append(.path(node.text, node.eval))
            } else {
                ok = false
            }
            i = close + 2
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        return ok ? Template(raw: text, parts: parts) : nil
    }
}

extension Template {
    /// The offset of `needle` (two scalars) in `scalars` at or after `from`.
    static func find(_ needle: String, in scalars: [Unicode.Scalar], from: Int) -> Int? {
        let n = Array(needle.unicodeScalars)
        var i = from
        while i + 1 < scalars.count {
            if scalars[i] == n[0], scalars[i + 1] == n[1] { return i }
            i += 1
        }
        return nil
    }
}
