import CoreMetrics
import Essentials
import HTTPServer

/// Request metrics as a Prometheus histogram, `leadrouter_http_request_duration_seconds`, by
/// method, route pattern (never the raw path) and status code: its `_count` series are the
/// requests. Each (route, status) gets its swift-metrics `Timer` the first time it is seen; after
/// that a request costs an array index by the route's interned id, a short scan of the few
/// statuses that route answered, and the histogram's own locked bucket update.
public final class PrometheusRequestMetrics: RequestMetricsRecorder {
    static let name = "leadrouter_http_request_duration_seconds"

    private let factory: any MetricsFactory
    /// `timers[route.id]`: the statuses seen for that route, each with its timer.
    private let timers = Locked<[[(status: Int, timer: CoreMetrics.Timer)]]>([])

    init(factory: any MetricsFactory) { self.factory = factory }

    public func record(_ sample: RequestSample) {
        let id = sample.route.id, status = sample.status.code
        let timer = timers.withLock { timers -> CoreMetrics.Timer in
            if id >= timers.count { timers.append(contentsOf: repeatElement([], count: id + 1 - timers.count)) }
            if let found = timers[id].first(where: { $0.status == status }) { return found.timer }
            let made = CoreMetrics.Timer(label: Self.name, dimensions: [
                ("method", sample.route.method.rawValue), ("route", sample.route.pattern), ("status", String(status)),
            ], factory: factory)
            timers[id].append((status, made))
            return made
        }
        let (seconds, attoseconds) = sample.duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Sends each sample to two recorders (the Prometheus one and one a test or embedder passed in).
public struct FanOutRequestMetrics: RequestMetricsRecorder {
    public let first: any RequestMetricsRecorder
    public let second: any RequestMetricsRecorder

    public init(first: any RequestMetricsRecorder, second: any RequestMetricsRecorder) { self.first = first; self.second = second }

    public func record(_ sample: RequestSample) {
        first.record(sample)
        second.record(sample)
    }
}
