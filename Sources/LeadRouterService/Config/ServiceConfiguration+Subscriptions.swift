import Foundation
import LeadStore
import Webhooks
import Yams

extension ServiceConfiguration {
    static let subscriptionsPath = "webhooks.subscriptions"

    /// Reads `webhooks.subscriptions`: a list of mappings with `name` (unique, required), `url`,
    /// `topics`, optional `segments`, `secret` (required here: nothing could show a generated one),
    /// `active`, `description`, `max_attempts` — checked by the same rules as the API. Segment
    /// names are checked against the ruleset when the service starts.
    mutating func applySubscriptions(_ node: Node, source: String) throws {
        let at = { (n: Node) in n.mark.map { "\(source):\($0.line):\($0.column)" } ?? source }
        guard let list = node.sequence else {
            if node.scalar?.string == "" || node.null != nil { webhooks.subscriptions = []; return }
            throw ConfigurationError(source: at(node), key: Self.subscriptionsPath, message: "expected a list of subscriptions")
        }
        var result: [NewSubscription] = []
        for (index, item) in list.enumerated() {
            let key = "\(Self.subscriptionsPath)[\(index)]"
            guard let mapping = item.mapping else {
                throw ConfigurationError(source: at(item), key: key, message: "expected a mapping with name, url, topics, secret")
            }
            var object: [String: Any] = [:]
            for (k, v) in mapping {
                guard let name = k.string else { throw ConfigurationError(source: at(k), key: key, message: "keys must be text") }
                if let values = v.sequence {
                    object[name] = values.map { $0.string ?? "" }
                } else if let text = v.scalar?.string {
                    switch name {
                    case "active": object[name] = ["true": true, "false": false][text] ?? text
                    case "max_attempts": object[name] = Int(text) ?? text
                    default: object[name] = text
                    }
                } else {
                    throw ConfigurationError(source: at(v), key: "\(key).\(name)", message: "expected a value or a list")
                }
            }
            guard let name = object["name"] as? String, !name.isEmpty else {
                throw ConfigurationError(source: at(item), key: key, message: "name is required (it identifies the subscription across restarts)")
            }
            guard !result.contains(where: { $0.configName == name }) else {
                throw ConfigurationError(source: at(item), key: key, message: "name '\(name)' is used twice")
            }
            guard object["secret"] is String else {
                throw ConfigurationError(source: at(item), key: "\(key).secret", message: "is required in the configuration file")
            }
            object["name"] = nil
            switch SubscriptionValidation.validate(object, knownSegments: nil, defaultMaxAttempts: webhooks.maxAttempts,
                                                         destinations: nil, configName: name) {
            case let .success(subscription): result.append(subscription)
            case let .failure(problems):
                let first = problems.errors[0]
                throw ConfigurationError(source: at(item), key: key + first.pointer.replacingOccurrences(of: "/", with: "."),
                                         message: first.detail)
            }
        }
        webhooks.subscriptions = result
    }
}
