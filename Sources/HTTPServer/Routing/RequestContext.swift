import Essentials

/// The route a request matched, as registered: what middleware keys per-route work on (metrics,
/// limits) without looking at the raw path, whose ids would make every request its own key.
public struct RouteInfo: Sendable, Hashable, CustomStringConvertible {
    /// The method the route was registered for (a GET route also answers HEAD).
    public let method: HTTPMethod
    /// The full pattern, group prefixes included, e.g. `/v1/leads/{id}`.
    public let pattern: String

    /// A small number naming this method and pattern, the same for every `RouteInfo` made of
    /// them in this process. Route infos are made at registration and keyed on by middleware
    /// on every request; comparing and indexing by this number costs a few instructions where
    /// hashing the pattern's bytes each time was a measurable share of a `/healthz` request.
    public let id: Int

    public init(method: HTTPMethod, pattern: String) {
        self.method = method; self.pattern = pattern
        self.id = RouteIDs.shared.id(for: "\(method) \(pattern)")
    }

    public static func == (a: RouteInfo, b: RouteInfo) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public var description: String { "\(method) \(pattern)" }
}

/// Interns route names to dense ids (0, 1, 2, …) so that per-route tables can be arrays.
final class RouteIDs: Sendable {
    static let shared = RouteIDs()
    private let ids = Locked<[String: Int]>([:])

    func id(for name: String) -> Int {
        ids.withLock { ids in
            if let id = ids[name] { return id }
            ids[name] = ids.count
            return ids.count - 1
        }
    }
}

/// Per-request state that middleware establishes and handlers read, typed by the application
/// (e.g. the authenticated API key). A fresh value is made for every request before the first
/// middleware runs; middleware hands a changed copy to `next`, so what an inner middleware or
/// the handler sees is exactly what the outer ones set. A value type: one request, one thread.
public protocol RequestContext: Sendable {
    /// The context of one request to `route`, before any middleware has run.
    init(route: RouteInfo)
    /// The route the request matched.
    var route: RouteInfo { get }
}

/// A context carrying nothing but the route, for groups whose middleware establishes nothing.
public struct BasicRequestContext: RequestContext {
    public let route: RouteInfo
    public init(route: RouteInfo) { self.route = route }
}
