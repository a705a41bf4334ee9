import HTTPServer
import Insight

/// `GET /v1/drift`, scope `read`: the drift report (docs/insight.md#drift). Thin: ask
/// `DriftMonitor`, encode.
public struct DriftRoutes: Sendable {
    let monitor: DriftMonitor

    public init(monitor: DriftMonitor) { self.monitor = monitor }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/drift", middleware: api.authenticated(.read)) { drift in
            drift.get { _, _ in .json(DriftView(try monitor.report())) }
        }
    }
}
