import Foundation
import Yams

/// What `leadrouter config print` shows: every key with its effective value and where it came
/// from, with secrets redacted. Defaults are read from the configuration reference
/// (`config/leadrouter.yaml`, built into the binary), whose values are the defaults — a test
/// keeps them equal to `ServiceConfiguration()`.
public enum EffectiveConfiguration {
    /// What replaces a secret.
    public static let redacted = "<redacted>"

    /// One `key: value  # source` line per key in `ConfigurationKey.all` order, then the
    /// configured webhook subscriptions (secrets redacted) and the database URL (password redacted).
    public static func render(_ configuration: ServiceConfiguration, reference: String, databaseURL: String?) -> String {
        let defaults = (try? Yams.compose(yaml: reference)) ?? nil
        var rows: [(key: String, value: String, source: String)] = []
        for key in ConfigurationKey.all {
            if let origin = configuration.origins.byPath[key.path] {
                rows.append((key.path, quoted(origin.text), origin.source))
            } else {
                let text = defaults.flatMap { scalar(at: key.path, in: $0) } ?? "?"
                rows.append((key.path, quoted(text), "default"))
            }
        }
        rows.append(("database_url", databaseURL.map { quoted(redactingPassword($0)) } ?? "\"\"",
                     databaseURL == nil ? "DATABASE_URL not set" : "DATABASE_URL"))
        let width = rows.map { $0.key.count + $0.value.count + 2 }.max() ?? 0
        var lines = ["# leadrouter: the effective configuration (defaults < --config file < flags < LEADROUTER_*); secrets redacted"]
        for row in rows {
            let left = "\(row.key): \(row.value)"
            lines.append(left.padding(toLength: max(width, left.count), withPad: " ", startingAt: 0) + "  # " + row.source)
        }
        let subscriptions = configuration.webhooks.subscriptions
        lines.append("webhooks.subscriptions:" + (subscriptions == nil ? "  # not set: managed through the API only"
                                                   : subscriptions!.isEmpty ? " []" : ""))
        for s in subscriptions ?? [] {
            lines.append("  - name: \(quoted(s.configName ?? ""))")
            lines.append("    url: \(quoted(redactingPassword(s.url)))")
            lines.append("    topics: [\(s.topics.map(quoted).joined(separator: ", "))]")
            if let segments = s.segments { lines.append("    segments: [\(segments.map(quoted).joined(separator: ", "))]") }
            lines.append("    secret: \"\(redacted)\"")
            lines.append("    active: \(s.active)")
            lines.append("    max_attempts: \(s.maxAttempts)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A URL with the password of its user info replaced (`postgresql://lr:<redacted>@db/x`);
    /// a `password=` query item too, and the `password=` of a libpq keyword string
    /// (`host=db password=x`).
    public static func redactingPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.scheme != nil else {
            return url.replacingOccurrences(of: #"password\s*=\s*('(\\.|[^'])*'|\S+)"#, with: "password=\(redacted)",
                                            options: [.regularExpression, .caseInsensitive])
        }
        var changed = false
        if components.password != nil { components.password = redacted; changed = true }
        if let items = components.queryItems, items.contains(where: { $0.name.lowercased() == "password" }) {
            components.queryItems = items.map { $0.name.lowercased() == "password" ? URLQueryItem(name: $0.name, value: redacted) : $0 }
            changed = true
        }
        return changed ? (components.string ?? url).replacingOccurrences(of: "%3Credacted%3E", with: redacted) : url
    }

    static func scalar(at path: String, in node: Node) -> String? {
        var current: Node? = node
        for part in path.split(separator: ".") { current = current?.mapping?[Node(String(part))] }
        return current?.scalar?.string
    }

    /// A YAML scalar as text, quoted when it would otherwise not read back as the same string.
    static func quoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "._-/:".contains($0) }
            && !text.hasPrefix("-") && !text.hasSuffix(":")
        if plain { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
