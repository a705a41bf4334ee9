import CoreMetrics
import Essentials
import Foundation
import HTTPServer
import Prometheus

/// Every metric one node exposes on `GET /metrics`, in one Prometheus registry. Three kinds:
/// instruments the code records into as things happen (swift-metrics `Timer`s and `Recorder`s
/// backed by swift-prometheus: request latency, lane batch sizes and commit latency); counters
/// *sampled* at scrape time from totals the service already keeps (`IngestCounters`, the pool's
/// waits), so the write path pays nothing new for them; and gauges read from PostgreSQL at
/// scrape time (`OperationalGauges`, cached a few seconds). docs/insight.md lists them all.
public final class ServiceMetrics: Sendable {
    /// Latency buckets (seconds) of the request and commit histograms: 0.5 ms to 10 s.
    static let durationBuckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }
    /// Messages per lane transaction (the lane's `maxBatch` is 256 by default).
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// The recorder the router's `RequestMetrics` middleware reports to.
    public let requests: PrometheusRequestMetrics
    private let laneBatchSize: Recorder
    private let laneCommit: CoreMetrics.Timer
    private let sampled = Locked<[SampledCounter]>([])
    private let gaugeSources = Locked<[@Sendable () -> Void]>([])

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        factory.valueHistogramBuckets["leadrouter_ingest_lane_batch_messages"] = Self.batchBuckets
        self.factory = factory
        requests = PrometheusRequestMetrics(factory: factory)
        laneBatchSize = Recorder(label: "leadrouter_ingest_lane_batch_messages", dimensions: [], aggregate: true, factory: factory)
        laneCommit = CoreMetrics.Timer(label: "leadrouter_ingest_lane_commit_seconds", dimensions: [], factory: factory)
    }

    /// Records one committed lane transaction (pass it to `GroupCommitPipeline` as its observer).
    public func laneCommitted(messages: Int, duration: Duration) {
        laneBatchSize.record(messages)
        let (seconds, attoseconds) = duration.components
        laneCommit.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// A counter whose value is `read()` when scraped: the registry's counter is advanced by what
    /// `read` grew since the last scrape (a total that fell, after a reset, is taken as new).
    public func sampleCounter(_ name: String, help: String, labels: [(String, String)] = [], _ read: @escaping @Sendable () -> Double) {
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        sampled.withLock { $0.append(SampledCounter(counter: counter, read: read)) }
    }

    /// Work to do before each scrape (refreshing gauges).
    public func beforeScrape(_ refresh: @escaping @Sendable () -> Void) {
        gaugeSources.withLock { $0.append(refresh) }
    }

    /// The text exposition format (version 0.0.4) of every metric, after sampling the counters
    /// and refreshing the gauges.
    public func exposition() -> [UInt8] {
        for refresh in gaugeSources.withLock({ $0 }) { refresh() }
        sampled.withLock { counters in
            for index in counters.indices { counters[index].advance() }
        }
        return registry.emitToBuffer()
    }

    /// The content type of `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// One sampled counter and the total it last reported.
struct SampledCounter {
    let counter: Prometheus.Counter
    let read: @Sendable () -> Double
    var reported = 0.0

    mutating func advance() {
        let now = read()
        let grown = now >= reported ? now - reported : now
        if grown > 0 { counter.increment(by: grown) }
        reported = now
    }
}
