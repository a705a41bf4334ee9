import Foundation
import HTTPServer
import LeadStore
import Postgres
import SalesQueues

/// Owners and accounts: `GET /v1/owners` (load and availability) and `PATCH /v1/owners/{id}
/// {available}` with scope `queue` (a sales tool switches its reps on and off);
/// `PUT /v1/accounts/{domain} {owner_id}` with scope `admin`.
public struct OwnerRoutes: Sendable {
    let pool: PostgresPool
    let auth: Authenticator
    let clock: @Sendable () -> Date

    /// Routes on `pool`; `clock` stamps account changes (the service clock).
    public init(pool: PostgresPool, auth: Authenticator, clock: @escaping @Sendable () -> Date) {
        self.pool = pool; self.auth = auth; self.clock = clock
    }

    /// Adds the three routes.
    public func install(into router: inout HTTPRouter) {
        router.add(.GET, "/v1/owners") { request in
            try APIErrors.guarded {
                _ = try auth.authenticate(request, scope: .queue)
                return .json(["data": try pool.withConnection { try Store($0).owners() }.map(OwnerJSON.init)])
            }
        }
        router.add(.PATCH, "/v1/owners/{id}", maxBodyBytes: 4096) { request in
            try APIErrors.guarded {
                _ = try auth.authenticate(request, scope: .queue)
                let id = request.pathParameters["id"] ?? ""
                var fields = JSONFields(request.body)
                let available = fields.bool("available", required: true)
                guard let available, fields.errors.isEmpty else { throw QueueRoutes.invalid(QueueRequestError(errors: fields.errors)) }
                let owner = try pool.withConnection { conn -> OwnerView? in
                    let store = Store(conn)
                    guard try store.setOwnerAvailable(id, available: available) else { return nil }
                    return try store.owners().first { $0.id == id }
                }
                guard let owner else { throw HTTPError(.notFound, detail: "no owner '\(id)'") }
                return .json(OwnerJSON(owner))
            }
        }
        router.add(.PUT, "/v1/accounts/{domain}", maxBodyBytes: 4096) { request in
            try APIErrors.guarded {
                _ = try auth.authenticate(request, scope: .admin)
                var fields = JSONFields(request.body)
                let owner = fields.string("owner_id", required: true)
                let domain = AccountDomain.normalise(request.pathParameters["domain"] ?? "")
                if domain == nil { fields.errors.append(QueueFieldError(pointer: "/path/domain", detail: "is not a company domain")) }
                guard let owner, let domain, fields.errors.isEmpty else { throw QueueRoutes.invalid(QueueRequestError(errors: fields.errors)) }
                try pool.withTransaction { try Store($0).upsertAccounts([(domain, owner)], now: clock()) }
                return .json(["domain": domain, "owner_id": owner])
            }
        }
    }
}
