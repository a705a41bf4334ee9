import Foundation
import HTTPServer
import LeadStore
import SalesQueues

/// Owners and accounts: `GET /v1/owners` (load and availability) and `PATCH /v1/owners/{id}
/// {available}` with scope `queue` (a sales tool switches its reps on and off; an owner-bound
/// key only its own owner);
/// `PUT /v1/accounts/{domain} {owner_id}` with scope `admin`.
public struct OwnerRoutes: Sendable {
    let owners: OwnerAdmin
    /// For `GET /v1/owners/{id}/items` (reads and item views).
    let queues: QueueRoutes

    /// Routes over `owners`; an owner's items through `queues`.
    package init(owners: OwnerAdmin, queues: QueueRoutes) { self.owners = owners; self.queues = queues }

    /// Adds the three routes to the `/v1` group.
    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/owners", middleware: api.authenticated(.queue)) { group in
            group.get { _, _ in
                .json(["data": try owners.owners().map(OwnerJSON.init)])
            }
            // What a rep holds across queues (not closed), most urgent first, with lead summaries.
            group.get("/{id}/items") { request, _ in
                let id = request.pathParameters["id"] ?? ""
                try queues.requireOwner(id)
                let cursorText = request.queryValue("cursor")
                let cursor = cursorText.flatMap(UUID.init(uuidString:))
                if cursorText != nil, cursor == nil {
                    throw QueueRoutes.invalid(QueueRequestError(errors: [.init(pointer: "/query/cursor", detail: "is not a cursor of this API")]))
                }
                let page = try queues.reads.ownerItems(owner: id, limit: try LeadRoutes.limit(request), cursor: cursor)
                return .json(OwnerItemsPage(ownerId: id, data: try queues.views(page.items, showToken: false), nextCursor: page.nextCursor))
            }
            group.patch("/{id}", maxBodyBytes: 4096) { request, context in
                let id = request.pathParameters["id"] ?? ""
                if let bound = try context.authenticatedKey().ownerId, bound != id {
                    throw HTTPError(.forbidden, detail: "this key is bound to owner '\(bound)' and may change only that owner")
                }
                var fields = JSONFields(request.body)
                let available = fields.bool("available", required: true)
                guard let available, fields.errors.isEmpty else { throw QueueRoutes.invalid(QueueRequestError(errors: fields.errors)) }
                guard let owner = try owners.setAvailable(id, available: available) else {
                    throw HTTPError(.notFound, detail: "no owner '\(id)'")
                }
                return .json(OwnerJSON(owner))
            }
        }
        v1.group("/accounts", middleware: api.authenticated(.admin)) { group in
            group.put("/{domain}", maxBodyBytes: 4096) { request, _ in
                var fields = JSONFields(request.body)
                let owner = fields.string("owner_id", required: true)
                let domain = AccountDomain.normalise(request.pathParameters["domain"] ?? "")
                if domain == nil { fields.errors.append(QueueFieldError(pointer: "/path/domain", detail: "is not a company domain")) }
                guard let owner, let domain, fields.errors.isEmpty else { throw QueueRoutes.invalid(QueueRequestError(errors: fields.errors)) }
                try owners.assignAccount(domain: domain, to: owner)
                return .json(["domain": domain, "owner_id": owner])
            }
        }
    }
}
