import Foundation
import HTTPServer
import LeadStore
import SalesQueues

/// The sales queue API, scope `queue`: look at a queue, claim with a lease (optionally long
/// polling), ack/release/extend with the claim token, and the queue's stats; with them the
/// owner and account routes (`OwnerRoutes`).
public struct QueueRoutes: Sendable {
    let service: QueueService
    let reads: QueueReads
    let owners: OwnerAdmin

    /// Claims and leases through `service`, queue views through `reads`, owners and accounts
    /// through `owners`.
    package init(service: QueueService, reads: QueueReads, owners: OwnerAdmin) {
        self.service = service; self.reads = reads; self.owners = owners
    }

    static let namePattern = "^[a-z0-9][a-z0-9_.-]{0,127}$"

    /// Adds the queue routes and the owner/account routes.
    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/queues", middleware: api.authenticated(.queue)) { queues in
            queues.get("/{queue}") { request, _ in try list(request) }
            queues.get("/{queue}/stats") { request, _ in try stats(request) }
            queues.post("/{queue}/claim", maxBodyBytes: 4096) { request, context in try claim(request, key: context.authenticatedKey()) }
            for verb in ["ack", "release", "extend"] {
                queues.post("/{queue}/items/{id}/\(verb)", maxBodyBytes: 4096) { request, context in
                    try lease(request, verb: verb, key: context.authenticatedKey())
                }
            }
        }
        OwnerRoutes(owners: owners, queues: self).install(into: &v1, api)
    }

    func queueName(_ request: HTTPRequest) throws -> String {
        let name = request.pathParameters["queue"] ?? ""
        guard name.range(of: Self.namePattern, options: .regularExpression) != nil else {
            throw HTTPError(.notFound, detail: "no queue named '\(name)'")
        }
        return name
    }

    /// A queue a rep can name (the ruleset routes to it, or it holds items); else 404 with the known names.
    func knownQueue(_ request: HTTPRequest) throws -> String {
        let name = try queueName(request)
        let known = try reads.knownQueues()
        guard known.contains(name) else {
            throw HTTPError(.notFound, detail: "no queue named '\(name)'; known queues: \(known.joined(separator: ", "))")
        }
        return name
    }

    /// 404 with the known owner ids unless `owner` is one.
    func requireOwner(_ owner: String?) throws {
        guard let owner else { return }
        let known = try reads.knownOwners()
        guard known.contains(owner) else {
            throw HTTPError(.notFound, detail: "no owner '\(owner)'; known owners: \(known.joined(separator: ", "))")
        }
    }

    /// Items with their leads' summaries.
    func views(_ items: [QueueItem], showToken: Bool) throws -> [QueueItemView] {
        let leads = try reads.leadSummaries(of: items)
        return items.map { QueueItemView(item: $0, showToken: showToken, lead: leads[$0.leadId]) }
    }

    static func invalid(_ error: QueueRequestError) -> HTTPError {
        HTTPError(.badRequest, title: "Invalid request", detail: error.description,
                  errors: error.errors.map { ProblemFieldError(pointer: $0.pointer, detail: $0.detail) })
    }

    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let queue = try knownQueue(request)
        let state = request.queryValue("state")
        var errors: [QueueFieldError] = []
        if let state, !["open", "claimed"].contains(state) { errors.append(.init(pointer: "/query/state", detail: "must be open or claimed")) }
        let cursorText = request.queryValue("cursor")
        let cursor = cursorText.flatMap(UUID.init(uuidString:))
        if cursorText != nil, cursor == nil { errors.append(.init(pointer: "/query/cursor", detail: "is not a cursor of this API")) }
        let orderText = request.queryValue("order")
        let order = orderText.map { ClaimOrder(rawValue: $0) } ?? .urgency
        if order == nil { errors.append(.init(pointer: "/query/order", detail: "must be sla or priority")) }
        if !errors.isEmpty { throw Self.invalid(QueueRequestError(errors: errors)) }
        let limit = try LeadRoutes.limit(request)
        try requireOwner(request.queryValue("owner"))
        let page = try reads.items(queue: queue, state: state, owner: request.queryValue("owner"), limit: limit, cursor: cursor,
                                   order: order ?? .urgency)
        return .json(QueueItemsPage(queue: queue, data: try views(page.items, showToken: false),
                                    nextCursor: page.nextCursor, includeCursor: true))
    }

    func stats(_ request: HTTPRequest) throws -> HTTPResponse {
        let queue = try knownQueue(request)
        return .json(QueueStatsView(queue: queue, stats: try reads.stats(queue: queue)))
    }

    func claim(_ request: HTTPRequest, key: StoredAPIKey) throws -> HTTPResponse {
        let queue = try knownQueue(request)
        let parsed: ClaimRequest
        do { parsed = try ClaimRequest.parse(request.body).bound(to: key.ownerId).get() } catch let error as QueueRequestError {
            throw Self.invalid(error)
        } catch let error as OwnerBindingError {
            throw HTTPError(.forbidden, detail: error.detail)
        }
        try requireOwner(parsed.ownerId)
        do {
            let result = try service.claim(queue: queue, request: parsed, claimer: key.name)
            return .json(QueueItemsPage(queue: queue, data: try views(result.items, showToken: true),
                                        nextCursor: nil, includeCursor: false))
        } catch is QueueService.TooManyWaiters {
            throw HTTPError(.serviceUnavailable, detail: "too many claims are long-polling on this node; retry, or claim without wait_seconds",
                            headers: ["Retry-After": "1"])
        }
    }

    func lease(_ request: HTTPRequest, verb: String, key: StoredAPIKey) throws -> HTTPResponse {
        let queue = try queueName(request)
        guard let id = request.pathParameters["id"].flatMap(UUID.init(uuidString:)) else {
            throw HTTPError(.notFound, detail: "no such item (ids are UUIDs)")
        }
        let parsed: LeaseRequest
        do { parsed = try LeaseRequest.parse(request.body, verb: verb) } catch { throw Self.invalid(error) }
        let result: QueueService.LeaseResult
        do {
            result = try service.lease(queue: queue, item: id, request: parsed, holder: key.ownerId)
        } catch let error as QueueRequestError { throw Self.invalid(error) }
        switch result {
        case let .done(item): return .json(QueueItemView(item: item, showToken: verb == "extend"))
        case let .conflict(why): throw HTTPError(.conflict, title: "Stale claim", detail: why)
        case .notFound: throw HTTPError(.notFound, detail: "no item \(id.uuidString.lowercased()) in queue '\(queue)'")
        case let .notHolder(why): throw HTTPError(.forbidden, detail: why)
        }
    }
}
