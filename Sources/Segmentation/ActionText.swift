import Essentials

/// A text field of a route action as the ruleset wrote it: fixed text, a template reading
/// `{{ lead.path }}` values, or a list of `{when, value}` choices (first that holds wins). Fields
/// written as plain text stay plain `String`s on the route; only templated or chosen fields (and
/// `script`) become an `ActionText`, so rulesets without them cost nothing at evaluation.
public struct ActionText: Sendable {
    /// One `{when, value}` branch; `when` is nil for the last, unconditional branch (or plain text).
    struct Choice: Sendable {
        let when: Rule?
        let template: Template
    }

    let choices: [Choice]

    /// True when the field was written as choices (a list), not one value.
    var isChoice: Bool { choices.count > 1 || choices.first?.when != nil }

    /// The value for this evaluation: the first branch whose `when` holds, rendered. Records what
    /// decided (the branch and its rule's values, the template and the paths that were missing).
    func resolve(_ env: EvalEnv, urlEncoded: Bool, into note: inout ActionExplanation) -> String? {
        var notes: [String] = []
        for (k, choice) in choices.enumerated() {
            if let when = choice.when {
                let holds = when.holds(env)
                if env.explains { notes.append(Explainer.render(when.node, env)) }
                guard holds else { continue }
            } else if isChoice {
                notes.append("otherwise")
            }
            if isChoice { note.choice = k + 1; note.rule = notes.joined(separator: "; ") }
            let (value, missing) = choice.template.render(env, urlEncoded: urlEncoded)
            if !choice.template.isFixed { note.template = choice.template.raw }
            if !missing.isEmpty { note.missing = missing }
            note.value = value
            return value
        }
        note.rule = notes.joined(separator: "; ")
        return nil
    }
}

/// Text with `{{ lead.path }}` holes. A hole whose value is null renders as empty text and is
/// named in the explanation; in URL-like fields (`landing_page`) values are percent-encoded so a
/// category like `bags & backpacks` cannot break the URL.
struct Template: Sendable {
    enum Part: Sendable {
        case text(String)
        case path(String, EvalFn)
    }

    /// The text as written (shown in explanations).
    let raw: String
    let parts: [Part]

    var isFixed: Bool { !parts.contains { if case .path = $0 { return true } else { return false } } }

    func render(_ env: EvalEnv, urlEncoded: Bool) -> (String, [String]) {
        var out = ""
        var missing: [String] = []
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .path(let name, let read):
                guard let v = Template.text(read(env)) else { missing.append(name); continue }
                out += urlEncoded ? Template.percentEncoded(v) : v
            }
        }
        return (out, missing)
    }

    /// A value as template text: numbers without a needless `.0`, lists comma-separated; nil for null.
    static func text(_ v: RV) -> String? {
        switch v {
        case .null: return nil
        case .str(let s): return s
        case .list(let items):
            let parts = items.compactMap(text)
            return parts.isEmpty ? nil : parts.joined(separator: ",")
        case .bool, .num, .dur, .ts: return v.text
        }
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                // Upper-case hex digits, as RFC 3986 §2.1 recommends.
                out += "%"
                for nibble in [byte >> 4, byte & 0x0F] {
                    let d = Hex.digit(nibble)
                    out.unicodeScalars.append(Unicode.Scalar(d >= UInt8(ascii: "a") ? d - 32 : d))
                }
            }
        }
        return out
    }
}

/// A route field that is templated or chosen: which channel and field it fills.
public struct DynamicField: Sendable {
    /// `email`, `ads` or `sales`.
    public let channel: String
    /// The field's JSON name (`sequence`, `landing_page`, `script`, …).
    public let field: String
    let text: ActionText

    /// Fields an action cannot do without: when no choice holds, the segment gives no action on the channel.
    static let required: Set<String> = ["sequence", "audience", "queue"]
    /// Fields holding a URL or path: template values are percent-encoded.
    static let urlLike: Set<String> = ["landing_page"]
}

/// How one templated or chosen action field got its value, in the decision's explanation under
/// `actions`: the branch taken (1-based) with the rules read to get there, the template and any
/// path that was missing (rendered empty).
public struct ActionExplanation: Codable, Sendable, Equatable {
    public var channel: String
    public var segment: String
    public var field: String
    /// The value given to the action; nil when no choice held.
    public var value: String?
    /// The branch taken among the choices, 1-based.
    public var choice: Int?
    /// The `when` rules read, in order, with their values (`otherwise` for a branch without `when`).
    public var rule: String?
    /// The template, when the value was rendered from one.
    public var template: String?
    /// `lead.*` paths that had no value and rendered as empty text.
    public var missing: [String]?

    public init(channel: String, segment: String, field: String) {
        self.channel = channel; self.segment = segment; self.field = field
    }
}
