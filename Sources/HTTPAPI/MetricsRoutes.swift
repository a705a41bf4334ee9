import HTTPServer
import Insight

/// `GET /metrics`: the Prometheus text exposition of `ServiceMetrics`. On the main port it sits
/// behind `Authenticate` with scope `read` (a scraper sends `Authorization: Bearer <key>`); with
/// `metrics.port` set it is also served, without authentication, by a second listener that
/// has only this route (for a scraper on the same host; bind it to loopback).
public struct MetricsRoutes: Sendable {
    let metrics: ServiceMetrics

    public init(metrics: ServiceMetrics) { self.metrics = metrics }

    /// On the main port, in the root group (beside the probes), for keys with scope `read`.
    package func install(into root: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        root.group("/metrics", middleware: api.common + api.authenticated(.read)) { group in
            group.get { _, _ in respond() }
        }
    }

    /// The router of the metrics-only listener: `/metrics` and nothing else, no authentication.
    public func unauthenticatedRouter() -> HTTPRouter {
        var router = HTTPRouter()
        router.group { group in group.get("/metrics") { _, _ in respond() } }
        return router
    }

    private func respond() -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": ServiceMetrics.contentType], body: metrics.exposition())
    }
}
