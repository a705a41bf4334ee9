import Foundation
import Yams

extension ServiceConfiguration {
    /// Resolves the configuration: defaults, then the YAML file at `file` (when given), then
    /// `flags` (flag name → value, as typed), then `LEADROUTER_*` variables from `environment`.
    /// Unknown keys, unknown `LEADROUTER_*` variables and bad values are errors naming their source.
    public static func resolve(file: String?, flags: [String: String],
                               environment: [String: String]) throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(source: file, key: "-", message: "cannot read the file (\(error.localizedDescription))")
            }
            try configuration.apply(yaml: text, source: file)
        }
        for (flag, value) in flags.sorted(by: { $0.key < $1.key }) {
            guard let key = ConfigurationKey.all.first(where: { $0.flag == flag }) else {
                throw ConfigurationError(source: "--\(flag)", key: flag, message: "unknown flag")
            }
            try configuration.apply(key, value, source: "--\(flag)")
        }
        let known = Set(ConfigurationKey.all.map(\.environment)).union(["LEADROUTER_CONFIG", "LEADROUTER_SCRATCH"])
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("LEADROUTER_") {
            guard let key = ConfigurationKey.all.first(where: { $0.environment == name }) else {
                if known.contains(name) || !isServeVariable(name) { continue }
                throw ConfigurationError(source: name, key: name, message: "unknown setting")
            }
            try configuration.apply(key, value, source: name)
        }
        return configuration
    }

    /// Only variables that look like server or logging settings are checked for typos;
    /// later issues own other `LEADROUTER_*` names (database, rules).
    private static func isServeVariable(_ name: String) -> Bool {
        let prefixes = ["LEADROUTER_HOST", "LEADROUTER_PORT", "LEADROUTER_TLS", "LEADROUTER_LOG", "LEADROUTER_MAX_",
                        "LEADROUTER_WORKER", "LEADROUTER_WEBHOOKS", "LEADROUTER_EVENT", "LEADROUTER_IDLE", "LEADROUTER_INGEST", "LEADROUTER_HEADER", "LEADROUTER_SHUTDOWN",
                        "LEADROUTER_RATE_LIMIT", "LEADROUTER_DATABASE_STATEMENT"]
        return prefixes.contains { name.hasPrefix($0) }
    }

    private mutating func apply(_ key: ConfigurationKey, _ value: String, source: String) throws {
        do {
            try key.apply(&self, value)
            origins.byPath[key.path] = SettingOrigins.Origin(text: value, source: source)
        } catch {
            throw ConfigurationError(source: source, key: key.path, message: error.message)
        }
    }

    /// Applies a YAML document: nested mappings down to scalar leaves, every leaf a known key.
    mutating func apply(yaml: String, source: String) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(source: source, key: "-", message: "not valid YAML: \(error)")
        }
        guard let root else { return }  // empty file: all defaults
        try walk(root, path: "", source: source)
    }

    private mutating func walk(_ node: Node, path: String, source: String) throws {
        let at = node.mark.map { "\(source):\($0.line):\($0.column)" } ?? source
        if let mapping = node.mapping {
            let prefix = path.isEmpty ? "" : path + "."
            let section = ConfigurationKey.all.contains { $0.path.hasPrefix(prefix) }
            guard section else {
                throw ConfigurationError(source: at, key: path, message: "expected a value, not a section")
            }
            for (keyNode, valueNode) in mapping {
                guard let name = keyNode.string else {
                    throw ConfigurationError(source: at, key: path, message: "keys must be text")
                }
                let child = prefix + name
                let keyAt = keyNode.mark.map { "\(source):\($0.line):\($0.column)" } ?? source
                if child == Self.subscriptionsPath { try applySubscriptions(valueNode, source: source); continue }
                guard ConfigurationKey.all.contains(where: { $0.path == child || $0.path.hasPrefix(child + ".") }) else {
                    throw ConfigurationError(source: keyAt, key: child, message: "unknown key")
                }
                try walk(valueNode, path: child, source: source)
            }
            return
        }
        guard let key = ConfigurationKey.all.first(where: { $0.path == path }) else {
            throw ConfigurationError(source: at, key: path, message: "expected a section with keys below it")
        }
        guard let scalar = node.scalar else {
            throw ConfigurationError(source: at, key: path, message: "expected a single value")
        }
        try apply(key, scalar.string, source: at)
    }
}
