import HTTPServer
import Insight

/// `GET /v1/drift` (the drift report) and `GET /v1/inventory` (the data inventory), scope
/// `read` (docs/insight.md). Thin: ask `DriftMonitor`, encode; gzip-compressed for clients that
/// ask (`CompressResponses`).
public struct InsightRoutes: Sendable {
    let monitor: DriftMonitor

    public init(monitor: DriftMonitor) { self.monitor = monitor }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group(middleware: api.authenticated(.read) + [CompressResponses()]) { group in
            group.get("/drift") { _, _ in .json(DriftView(try monitor.report())) }
            group.get("/inventory") { _, _ in .json(InventoryView(try monitor.inventory())) }
        }
    }
}
