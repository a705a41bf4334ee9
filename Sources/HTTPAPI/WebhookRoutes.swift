import Foundation
import HTTPServer
import LeadStore
import Segmentation
import Webhooks

/// `POST/GET/DELETE /v1/subscriptions`, `POST /v1/subscriptions/{id}/replay`,
/// `GET /v1/deliveries`, `POST /v1/deliveries/{id}/retry` — all scope `admin`.
public struct WebhookRoutes: Sendable {
    let admin: SubscriptionAdmin
    let rules: ActiveEngine
    let settings: WebhookSettings

    /// Routes over `admin`; the active ruleset (`rules`) checks segment filters, `settings` gives the default max attempts.
    package init(admin: SubscriptionAdmin, rules: ActiveEngine, settings: WebhookSettings) {
        self.admin = admin; self.rules = rules; self.settings = settings
    }

    /// Adds every webhook route to the `/v1` group.
    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/subscriptions", middleware: api.authenticated(.admin)) { subscriptions in
            subscriptions.post(maxBodyBytes: 16 * 1024) { request, _ in try create(request) }
            subscriptions.get { _, _ in .json(SubscriptionList(data: try admin.subscriptions().map(SubscriptionView.init))) }
            subscriptions.get("/{id}") { request, _ in
                guard let found = try admin.subscription(try Self.subscriptionId(request)) else { throw Self.noSubscription }
                return .json(SubscriptionView(found))
            }
            subscriptions.delete("/{id}") { request, _ in try delete(request) }
            subscriptions.post("/{id}/replay", maxBodyBytes: 4 * 1024) { request, _ in try replay(request) }
        }
        v1.group("/deliveries", middleware: api.authenticated(.admin)) { deliveries in
            deliveries.get { request, _ in try self.deliveries(request) }
            deliveries.post("/{id}/retry") { request, _ in try retry(request) }
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
        let segments = Set(rules.engine.ruleset.segments.map(\.name))
        switch SubscriptionValidation.validate(object, knownSegments: segments, defaultMaxAttempts: settings.maxAttempts,
                                               destinations: settings.destinationPolicy) {
        case let .failure(problems):
            let errors = problems.errors
            throw HTTPError(.unprocessableContent, title: "Invalid subscription", detail: errors.first?.detail, errors: errors)
        case let .success(new):
            let created = try admin.create(new)
            var view = SubscriptionView(created)
            view.secret = created.secret  // shown once, here
            return .json(view, status: .created)
        }
    }

    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        switch try admin.delete(try Self.subscriptionId(request)) {
        case .deleted: return HTTPResponse(status: .noContent)
        case .notFound: throw Self.noSubscription
        case let .configured(name):
            throw HTTPError(.conflict, detail: "subscription '\(name)' comes from the configuration file; remove it there")
        }
    }

    func replay(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.subscriptionId(request)
        let object = try Self.object(request)
        guard let text = object["from"] as? String, let from = Self.parseTime(text) else {
            throw HTTPError(.unprocessableContent, detail: "from must be an RFC 3339 time",
                            errors: [.init(pointer: "/from", detail: "must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z")])
        }
        guard let count = try admin.replay(id, from: from) else { throw Self.noSubscription }
        return .json(ReplayResult(subscriptionId: id.uuidString.lowercased(), from: Timestamp(from), scheduled: count), status: .accepted)
    }

    /// `Timestamp.parse` (the same two formatter shapes, to the millisecond): it keeps the text it
    /// hands ICU to what ICU survives (a fraction of 32+ digits was a SIGFPE of the whole process).
    static func parseTime(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        return Timestamp.parse(text)?.date
    }

    static let noSubscription = HTTPError(.notFound, detail: "no such subscription")

    static func subscriptionId(_ request: HTTPRequest) throws -> UUID {
        guard let text = request.pathParameters["id"], let id = UUID(uuidString: text) else {
            throw HTTPError(.notFound, detail: "no such subscription (ids are UUIDs)")
        }
        return id
    }
}
