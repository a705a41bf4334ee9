/// The route a request matched, as registered: what middleware keys per-route work on (metrics,
/// limits) without looking at the raw path, whose ids would make every request its own key.
public struct RouteInfo: Sendable, Hashable, CustomStringConvertible {
    /// The method the route was registered for (a GET route also answers HEAD).
    public let method: HTTPMethod
    /// The full pattern, group prefixes included, e.g. `/v1/leads/{id}`.
    public let pattern: String

    public init(method: HTTPMethod, pattern: String) { self.method = method; self.pattern = pattern }

    public var description: String { "\(method) \(pattern)" }
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
