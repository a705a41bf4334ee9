import Essentials

/// One answered request as the metrics middleware reports it.
public struct RequestSample: Sendable, Equatable {
    /// The route matched (registered method and full pattern, never the raw path).
    public var route: RouteInfo
    /// The status answered; for a thrown error, the status it maps to (500 when it maps to none).
    public var status: HTTPStatus
    /// From the request entering the middleware to its response leaving it.
    public var duration: Duration

    public init(route: RouteInfo, status: HTTPStatus, duration: Duration) {
        self.route = route; self.status = status; self.duration = duration
    }
}

/// Where request metrics go. Called on worker threads, once per request: keep it cheap.
public protocol RequestMetricsRecorder: Sendable {
    func record(_ sample: RequestSample)
}

/// Counts and durations per route pattern and status class (2xx, 4xx, …), kept in memory.
/// The default recorder; an exporter reads `snapshot()`.
public final class InMemoryRequestMetrics: RequestMetricsRecorder {
    /// What totals are kept per: route and status class (`2` for 2xx).
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        public var route: RouteInfo
        public var statusClass: Int
        public init(route: RouteInfo, statusClass: Int) { self.route = route; self.statusClass = statusClass }
        public var description: String { "\(route) \(statusClass)xx" }
    }

    /// Totals of one key.
    public struct Totals: Sendable, Equatable {
        public var count = 0
        public var totalDuration = Duration.zero
        public var maxDuration = Duration.zero
        public init() {}
    }

    /// Totals by `route.id * 6 + statusClass` (classes 0…5): an array index per request,
    /// no hashing. `routes[id]` keeps the route of each id seen.
    private struct Table {
        var totals: [Totals] = []
        var routes: [RouteInfo?] = []
    }
    private let table = Locked(Table())

    public init() {}

    public func record(_ sample: RequestSample) {
        let statusClass = min(max(sample.status.code / 100, 0), 5)
        let slot = sample.route.id * 6 + statusClass
        table.withLock { table in
            if sample.route.id >= table.routes.count {  // both grow together: totals = 6 × routes
                let added = sample.route.id + 1 - table.routes.count
                table.routes.append(contentsOf: repeatElement(nil, count: added))
                table.totals.append(contentsOf: repeatElement(Totals(), count: added * 6))
            }
            if table.routes[sample.route.id] == nil { table.routes[sample.route.id] = sample.route }
            table.totals[slot].count += 1
            table.totals[slot].totalDuration += sample.duration
            if sample.duration > table.totals[slot].maxDuration { table.totals[slot].maxDuration = sample.duration }
        }
    }

    /// Every key seen so far with its totals.
    public func snapshot() -> [Key: Totals] {
        table.withLock { table in
            var all: [Key: Totals] = [:]
            for (slot, totals) in table.totals.enumerated() where totals.count > 0 {
                guard let route = table.routes[slot / 6] else { continue }
                all[Key(route: route, statusClass: slot % 6)] = totals
            }
            return all
        }
    }
}

/// Records every request of the routes behind it: route, status class and duration. Put it
/// outermost, so that the status it records is the one answered: a thrown
/// `HTTPResponseError` counts as its status, any other error as 500.
public struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let recorder: any RequestMetricsRecorder

    public init(recorder: any RequestMetricsRecorder) { self.recorder = recorder }

    public func handle(_ request: HTTPRequest, context: Context,
                       next: (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let response = try next(request, context)
            recorder.record(RequestSample(route: context.route, status: response.status, duration: clock.now - started))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            recorder.record(RequestSample(route: context.route, status: status, duration: clock.now - started))
            throw error
        }
    }
}
