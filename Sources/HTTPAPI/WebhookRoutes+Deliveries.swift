import Foundation
import HTTPServer
import LeadStore
import Segmentation
import Webhooks

/// `GET /v1/deliveries` and `POST /v1/deliveries/{id}/retry`.
extension WebhookRoutes {
    func deliveries(_ request: HTTPRequest) throws -> HTTPResponse {
        let filter = try Self.query(request, "status", "must be one of failed, dead, pending, delivered") { DeliveryFilter(rawValue: $0) }
        let subscription = try Self.query(request, "subscription", "must be a subscription id (a UUID)") { UUID(uuidString: $0) }
        let before = try Self.query(request, "cursor", "must come from next_cursor") { Int64($0).flatMap { $0 > 0 ? $0 : nil } }
        let limit = try LeadRoutes.limit(request)
        let rows = try admin.deliveries(filter: filter, subscription: subscription, limit: limit, before: before)
        return .json(DeliveryList(data: rows.map(DeliveryView.init), nextCursor: rows.count == limit ? rows.last.map { String($0.id) } : nil))
    }

    /// Query parameter `name` parsed by `parse`; nil when absent, 400 when it does not parse.
    static func query<T>(_ request: HTTPRequest, _ name: String, _ expected: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = request.queryValue(name) else { return nil }
        guard let value = parse(text) else {
            throw HTTPError(.badRequest, detail: "\(name) \(expected)", errors: [.init(pointer: "/query/\(name)", detail: expected)])
        }
        return value
    }

    func retry(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let text = request.pathParameters["id"], let id = Int64(text) else {
            throw HTTPError(.notFound, detail: "no such delivery")
        }
        switch try admin.retry(id) {
        case let .retried(retried): return .json(DeliveryView(retried), status: .accepted)
        case .notFound: throw HTTPError(.notFound, detail: "no such delivery")
        case let .notRetryable(status):
            throw HTTPError(.conflict, detail: "delivery \(id) is \(status); only dead or failed deliveries are retried "
                            + "(replay the subscription to send delivered events again)")
        }
    }
}

/// A subscription as the API shows it; `secret` only in the answer that created it.
struct SubscriptionView: Encodable {
    var id: String, url: String, topics: [String], segments: [String]?, description: String?
    var active: Bool, maxAttempts: Int, createdAt: Timestamp, source: String, name: String?
    var secret: String?

    init(_ s: Subscription) {
        id = s.id.uuidString.lowercased(); url = s.url; topics = s.topics; segments = s.segments; description = s.description
        active = s.active; maxAttempts = s.maxAttempts; createdAt = Timestamp(s.createdAt)
        source = s.configName == nil ? "api" : "config"; name = s.configName
    }

    enum CodingKeys: String, CodingKey {
        case id, url, topics, segments, description, active, maxAttempts = "max_attempts", createdAt = "created_at", source, name, secret
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(url, forKey: .url); try c.encode(topics, forKey: .topics)
        try c.encode(segments, forKey: .segments); try c.encode(description, forKey: .description)
        try c.encode(active, forKey: .active); try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(createdAt, forKey: .createdAt); try c.encode(source, forKey: .source)
        try c.encodeIfPresent(name, forKey: .name); try c.encodeIfPresent(secret, forKey: .secret)
    }
}

struct SubscriptionList: Encodable { var data: [SubscriptionView] }

struct ReplayResult: Encodable {
    var subscriptionId: String, from: Timestamp, scheduled: Int
    enum CodingKeys: String, CodingKey { case subscriptionId = "subscription_id", from, scheduled }
}

/// A delivery as the API shows it; `status` is `failed` for a pending delivery that has failed before.
struct DeliveryView: Encodable {
    var id: String, subscriptionId: String, eventId: String, leadId: String, type: String, status: String
    var attempts: Int, nextAttemptAt: Timestamp?, lastError: String?, lastStatus: Int?, deliveredAt: Timestamp?, createdAt: Timestamp

    init(_ d: DeliveryRecord) {
        id = String(d.id); subscriptionId = d.subscriptionId.uuidString.lowercased(); eventId = "evt_\(d.outboxId)"
        leadId = d.leadId.uuidString.lowercased(); type = d.topic
        status = d.status == "pending" && d.attempts > 0 ? "failed" : d.status
        attempts = d.attempts; nextAttemptAt = d.status == "pending" ? Timestamp(d.nextAttemptAt) : nil
        lastError = d.lastError; lastStatus = d.lastStatus; deliveredAt = d.deliveredAt.map(Timestamp.init); createdAt = Timestamp(d.createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, subscriptionId = "subscription_id", eventId = "event_id", leadId = "lead_id", type, status, attempts
        case nextAttemptAt = "next_attempt_at", lastError = "last_error", lastStatus = "last_status"
        case deliveredAt = "delivered_at", createdAt = "created_at"
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(subscriptionId, forKey: .subscriptionId); try c.encode(eventId, forKey: .eventId)
        try c.encode(leadId, forKey: .leadId); try c.encode(type, forKey: .type); try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts); try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastError, forKey: .lastError); try c.encode(lastStatus, forKey: .lastStatus)
        try c.encode(deliveredAt, forKey: .deliveredAt); try c.encode(createdAt, forKey: .createdAt)
    }
}

struct DeliveryList: Encodable {
    var data: [DeliveryView]; var nextCursor: String?
    enum CodingKeys: String, CodingKey { case data, nextCursor = "next_cursor" }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data); try c.encode(nextCursor, forKey: .nextCursor)
    }
}
