import Essentials
import HTTPServer
import LeadStore
import Logging
import Postgres

/// The outcome of one readiness check.
public struct ReadinessResult: Sendable, Equatable {
    /// Whether this component can serve traffic.
    public var ready: Bool
    /// Why not, for operators (shown in `/readyz`).
    public var detail: String?

    /// A result; give `detail` when not ready.
    public init(ready: Bool, detail: String? = nil) { self.ready = ready; self.detail = detail }
    /// Ready, nothing to add.
    public static let ready = ReadinessResult(ready: true)
}

/// The checks `/readyz` runs, registered by the components that need them (the database pool,
/// the active ruleset, …). With none registered the service is ready as soon as it listens.
public final class ReadinessChecks: Sendable {
    private let checks = Locked<[(name: String, check: @Sendable () -> ReadinessResult)]>([])

    /// No checks yet: ready.
    public init() {}

    /// Adds a check; `check` runs on a worker thread for every `/readyz` and may block briefly.
    public func register(_ name: String, _ check: @escaping @Sendable () -> ReadinessResult) {
        checks.withLock { $0.append((name, check)) }
    }

    /// The database check: a `SELECT 1` on a pooled connection. `/readyz` is unauthenticated, so
    /// its detail stays generic; libpq's message (host, port, user, database) goes only to the log
    /// (`warning`, repeats of one error throttled).
    package static func database(pool: PostgresPool, logger: Logger) -> @Sendable () -> ReadinessResult {
        let throttle = LogThrottle()
        return {
            do {
                try pool.withConnection { try Store($0).ping() }
                logger.settle(throttle, level: .warning, flush: true)
                return .ready
            } catch {
                logger.throttled(.warning, "readiness: database unreachable", error: error, by: throttle)
                return ReadinessResult(ready: false, detail: "database unreachable")
            }
        }
    }

    /// Runs every check in registration order.
    public func run() -> [(name: String, result: ReadinessResult)] {
        let current = checks.withLock { $0 }
        return current.map { ($0.name, $0.check()) }
    }
}

/// `GET /healthz` (alive: status and version) and `GET /readyz` (every readiness check passes:
/// 200, else 503 with the failing checks), the probes an orchestrator polls.
public enum OpsRoutes {
    struct Health: Encodable { let status: String; let version: String }
    struct Readiness: Encodable {
        struct Check: Encodable { let name: String; let status: String; let detail: String? }
        let status: String
        let checks: [Check]
    }

    /// Adds both routes to `router`; `/healthz` reports `version`.
    public static func install(into router: inout HTTPRouter, version: String, readiness: ReadinessChecks) {
        router.group { install(into: &$0, version: version, readiness: readiness) }
    }

    /// Adds both routes to `group` (the service's root group, behind its metrics), unauthenticated.
    public static func install<Context: RequestContext>(into group: inout RouterGroup<Context>, version: String,
                                                        readiness: ReadinessChecks) {
        let health = HTTPResponse.json(Health(status: "ok", version: version))
        group.get("/healthz") { _, _ in health }
        group.get("/readyz") { _, _ in
            let results = readiness.run()
            let ready = results.allSatisfy { $0.result.ready }
            let body = Readiness(status: ready ? "ready" : "not_ready", checks: results.map {
                .init(name: $0.name, status: $0.result.ready ? "ok" : "failing", detail: $0.result.detail)
            })
            return .json(body, status: ready ? .ok : .serviceUnavailable)
        }
    }
}

extension OpsRoutes {
    /// `GET /openapi.yaml`: the OpenAPI 3.1 description of every route (`docs/openapi.yaml`, built
    /// into the binary), unauthenticated like the probes, so client generators and API explorers
    /// can fetch it from a running node. `application/yaml` is its registered type (RFC 9512).
    public static func installOpenAPI<Context: RequestContext>(into group: inout RouterGroup<Context>, document: String) {
        let response = HTTPResponse(status: .ok, headers: ["Content-Type": "application/yaml; charset=utf-8"],
                                    body: Array(document.utf8))
        group.get("/openapi.yaml") { _, _ in response }
    }
}
