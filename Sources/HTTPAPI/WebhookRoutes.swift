import Foundation
import HTTPServer
import LeadStore
import Postgres
import Segmentation
import Webhooks

/// `POST/GET/DELETE /v1/subscriptions`, `POST /v1/subscriptions/{id}/replay`,
/// `GET /v1/deliveries`, `POST /v1/deliveries/{id}/retry` — all scope `admin`.
public struct WebhookRoutes: Sendable {
    let pool: PostgresPool
    let engine: Engine
    let auth: Authenticator
    let settings: WebhookSettings

    /// Routes on the main pool (operator calls are rare); `engine` checks segment filters,
    /// `settings` gives the default max attempts.
    public init(pool: PostgresPool, engine: Engine, auth: Authenticator, settings: WebhookSettings) {
        self.pool = pool; self.engine = engine; self.auth = auth; self.settings = settings
    }

    /// Adds every webhook route to `router`.
    public func install(into router: inout HTTPRouter) {
        router.add(.POST, "/v1/subscriptions", maxBodyBytes: 16 * 1024) { request in try admin(request) { try create(request) } }
        router.add(.GET, "/v1/subscriptions") { request in
            try admin(request) { .json(SubscriptionList(data: try pool.withConnection { try Store($0).subscriptions() }.map(SubscriptionView.init))) }
        }
        router.add(.GET, "/v1/subscriptions/{id}") { request in
            try admin(request) {
                let id = try Self.subscriptionId(request)
                guard let found = try pool.withConnection({ try Store($0).subscription(id) }) else { throw Self.noSubscription }
                return .json(SubscriptionView(found))
            }
        }
        router.add(.DELETE, "/v1/subscriptions/{id}") { request in try admin(request) { try delete(request) } }
        router.add(.POST, "/v1/subscriptions/{id}/replay", maxBodyBytes: 4 * 1024) { request in try admin(request) { try replay(request) } }
        router.add(.GET, "/v1/deliveries") { request in try admin(request) { try deliveries(request) } }
        router.add(.POST, "/v1/deliveries/{id}/retry") { request in try admin(request) { try retry(request) } }
    }

    func admin(_ request: HTTPRequest, _ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        try APIErrors.guarded {
            _ = try auth.authenticate(request, scope: .admin)
            return try body()
        }
    }

    static func object(_ request: HTTPRequest) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw HTTPError(.badRequest, detail: "the body must be a JSON object", errors: [.init(pointer: "", detail: "must be a JSON object")])
        }
        return object
    }

    func create(_ request: HTTPRequest) throws -> HTTPResponse {
        var object = try Self.object(request)
        if object["name"] != nil {
            throw HTTPError(.unprocessableContent, detail: "name is only for subscriptions in the configuration file",
                            errors: [.init(pointer: "/name", detail: "is not a subscription field here")])
        }
        object["name"] = nil
        let segments = Set(engine.ruleset.segments.map(\.name))
        switch SubscriptionValidation.validate(object, knownSegments: segments, defaultMaxAttempts: settings.maxAttempts,
                                               destinations: settings.destinationPolicy) {
        case let .failure(problems):
            let errors = problems.errors
            throw HTTPError(.unprocessableContent, title: "Invalid subscription", detail: errors.first?.detail, errors: errors)
        case let .success(new):
            let created = try pool.withConnection { try Store($0).createSubscription(new) }
            var view = SubscriptionView(created)
            view.secret = created.secret  // shown once, here
            return .json(view, status: .created)
        }
    }

    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.subscriptionId(request)
        return try pool.withConnection { conn in
            let store = Store(conn)
            guard let found = try store.subscription(id) else { throw Self.noSubscription }
            if let name = found.configName {
                throw HTTPError(.conflict, detail: "subscription '\(name)' comes from the configuration file; remove it there")
            }
            try store.deleteSubscription(id)
            return HTTPResponse(status: .noContent)
        }
    }

    func replay(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.subscriptionId(request)
        let object = try Self.object(request)
        guard let text = object["from"] as? String, let from = Self.parseTime(text) else {
            throw HTTPError(.unprocessableContent, detail: "from must be an RFC 3339 time",
                            errors: [.init(pointer: "/from", detail: "must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z")])
        }
        return try pool.withTransaction { conn in
            let store = Store(conn)
            guard try store.subscription(id) != nil else { throw Self.noSubscription }
            let count = try store.replay(subscription: id, from: from)
            return .json(ReplayResult(subscriptionId: id.uuidString.lowercased(), from: Timestamp(from), scheduled: count), status: .accepted)
        }
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static let noSubscription = HTTPError(.notFound, detail: "no such subscription")

    static func subscriptionId(_ request: HTTPRequest) throws -> UUID {
        guard let text = request.pathParameters["id"], let id = UUID(uuidString: text) else {
            throw HTTPError(.notFound, detail: "no such subscription (ids are UUIDs)")
        }
        return id
    }
}
