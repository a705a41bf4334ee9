import Cryptography
import Essentials
import Foundation
import LeadStore
import OutboundHTTP

/// Checks a subscription as a client (JSON body) or the configuration file gives it, and fills
/// defaults: a generated secret when none is given, the service's default max attempts. Every
/// problem is reported at once, each under its JSON pointer.
public enum SubscriptionValidation {
    /// Topics a subscription may ask for: every outbox topic.
    public static var knownTopics: [String] { OutboxTopic.allCases.map(\.rawValue) }

    /// A new random secret in the Standard Webhooks format (`whsec_` + base64 of 32 bytes).
    public static func generateSecret() -> String { StandardWebhookSignature.generateSecret() }

    /// Every field problem of one subscription, each under its JSON pointer.
    public struct Problems: Error, Sendable { public var errors: [FieldError] }

    /// The subscription `object` describes, or the field errors. `knownSegments` are the active
    /// ruleset's segment names (nil: checked later, when the ruleset is known). `destinations`
    /// refuses URLs of non-public hosts (nil: checked later — the configuration file's
    /// subscriptions are checked at start, once `webhooks.allow_private_networks` is final).
    public static func validate(_ object: [String: Any], knownSegments: Set<String>?, defaultMaxAttempts: Int,
                                destinations: DestinationPolicy?, configName: String? = nil) -> Result<NewSubscription, Problems> {
        var errors: [FieldError] = []
        func fail(_ field: String, _ detail: String) { errors.append(FieldError(pointer: "/" + field, detail: detail)) }
        let allowed: Set<String> = ["url", "topics", "segments", "secret", "active", "description", "max_attempts", "name"]
        for key in object.keys.sorted() where !allowed.contains(key) { fail(key, "is not a subscription field") }

        let url = object["url"] as? String
        if object["url"] == nil { fail("url", "is required") }
        else if let url {
            switch OutboundURL.parse(url) {
            case let .failure(invalid): fail("url", invalid.reason)
            case let .success(parsed):
                if let problem = destinations?.problem(with: parsed) { fail("url", problem) }
            }
        } else { fail("url", "must be an absolute http:// or https:// URL") }

        var topics: [String] = []
        if let list = object["topics"] as? [Any], !list.isEmpty {
            for (i, item) in list.enumerated() {
                guard let topic = item as? String, knownTopics.contains(topic) else {
                    fail("topics/\(i)", "must be one of \(knownTopics.joined(separator: ", "))"); continue
                }
                if !topics.contains(topic) { topics.append(topic) }
            }
        } else {
            fail("topics", "must be a non-empty array of topics (\(knownTopics.joined(separator: ", ")))")
        }

        var segments: [String]?
        if let raw = object["segments"], !(raw is NSNull) {
            if let list = raw as? [Any], !list.isEmpty {
                segments = []
                for (i, item) in list.enumerated() {
                    guard let name = item as? String, knownSegments?.contains(name) ?? !name.isEmpty else {
                        fail("segments/\(i)", "is not a segment of the active ruleset"); continue
                    }
                    segments?.append(name)
                }
            } else {
                fail("segments", "must be a non-empty array of segment names, or absent for every segment")
            }
        }

        var secret = SubscriptionValidation.generateSecret()
        if let raw = object["secret"], !(raw is NSNull) {
            if let given = raw as? String, (16...256).contains(given.utf8.count) { secret = given }
            else { fail("secret", "must be a string of 16 to 256 bytes, or absent to have one generated") }
        }

        var active = true
        if let raw = object["active"] {
            if let flag = raw as? Bool { active = flag }
            else { fail("active", "must be true or false") }
        }

        var description: String?
        if let raw = object["description"], !(raw is NSNull) {
            if let text = raw as? String, text.count <= 500 { description = text } else { fail("description", "must be a string of at most 500 characters") }
        }

        var maxAttempts = defaultMaxAttempts
        if let raw = object["max_attempts"] {
            if let n = raw as? Int, (1...100).contains(n) { maxAttempts = n } else { fail("max_attempts", "must be an integer from 1 to 100") }
        }

        guard errors.isEmpty, let url else { return .failure(Problems(errors: errors)) }
        return .success(NewSubscription(url: url, topics: topics, segments: segments, secret: secret, description: description,
                                         active: active, maxAttempts: maxAttempts, configName: configName))
    }
}
