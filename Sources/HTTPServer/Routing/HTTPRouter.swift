/// A request handler. It may block (it runs on the worker pool) and may throw: an
/// `HTTPResponseError` (e.g. `HTTPError`) becomes its problem document, anything else a 500.
/// Routes of a `RouterGroup` are registered as one of these with their middleware composed in.
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// One registered route: method, path pattern with `{param}` segments, optional body limit.
public struct HTTPRoute: Sendable {
    /// The method it answers (a GET route also answers HEAD).
    public let method: HTTPMethod
    /// The pattern as registered, e.g. `/v1/leads/{id}/segments`.
    public let pattern: String
    /// Body limit for this route (413 beyond it); nil means the server's default.
    public let maxBodyBytes: Int?
    /// Runs on the worker pool with the complete request.
    public let handler: HTTPHandler
    let segments: [RouteSegment]
}

/// A pattern segment: a literal to compare with the decoded path segment, or a named capture.
enum RouteSegment: Sendable, Equatable {
    case literal(String)
    case parameter(String)

    init(_ text: Substring) {
        if text.count >= 2, text.first == "{", text.last == "}" {
            self = .parameter(String(text.dropFirst().dropLast()))
        } else {
            self = .literal(String(text))
        }
    }
}

/// Method + path routing. The path is split on `/` first and each segment percent-decoded
/// after, so `%2F` inside an id never creates a segment. When several patterns match, the one
/// with a literal at the first differing segment wins (`/leads/export` over `/leads/{id}`).
public struct HTTPRouter: Sendable {
    /// Every registered route, in registration order.
    public private(set) var routes: [HTTPRoute] = [] {
        didSet { byLength = Self.indexByLength(routes) }
    }
    /// Indices into `routes` by number of path segments: a path is only compared with patterns
    /// of its own length, so matching does not grow with every route the API adds.
    private var byLength: [[Int]] = []

    /// An empty router: every request is a 404 until routes are added.
    public init() {}

    /// The outcome of routing one request.
    public enum Match: Sendable {
        case found(HTTPRoute, parameters: [String: String])
        case notFound
        /// The path exists for other methods; answer 405 with `Allow` listing them.
        case methodNotAllowed(allow: [HTTPMethod])
    }

    /// Registers a route. Later registrations of the same method and pattern do not replace
    /// earlier ones (the first wins), so register each once.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil,
                             _ handler: @escaping HTTPHandler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map(RouteSegment.init)
        routes.append(HTTPRoute(method: method, pattern: pattern, maxBodyBytes: maxBodyBytes,
                                handler: handler, segments: segments))
    }

    /// Appends `other`'s routes after this router's, in their order (how a group's routes land).
    mutating func append(_ other: HTTPRouter) {
        routes.append(contentsOf: other.routes)
    }

    /// Finds the route for `method` and raw (not yet decoded) `path`. HEAD uses a GET route
    /// unless a HEAD route is registered.
    public func match(method: HTTPMethod, path: String) -> Match {
        let decoded = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { PercentDecoding.decode($0, plusAsSpace: false) }
        var best: (route: HTTPRoute, rank: Int)?
        var allow: [HTTPMethod] = []
        let candidates = decoded.count < byLength.count ? byLength[decoded.count] : []
        for index in candidates where Self.pathMatches(routes[index].segments, decoded) {
            let route = routes[index]
            if !allow.contains(route.method) { allow.append(route.method) }
            let rank: Int
            if route.method == method { rank = 1 } else if method == .HEAD, route.method == .GET { rank = 0 } else { continue }
            if let current = best {
                let order = Self.compareSpecificity(route.segments, current.route.segments)
                if order < 0 || (order == 0 && rank <= current.rank) { continue }
            }
            best = (route, rank)
        }
        if let best {
            var parameters: [String: String] = [:]
            for (segment, value) in zip(best.route.segments, decoded) {
                if case .parameter(let name) = segment { parameters[name] = value }
            }
            return .found(best.route, parameters: parameters)
        }
        if allow.isEmpty { return .notFound }
        if allow.contains(.GET), !allow.contains(.HEAD) { allow.append(.HEAD) }
        return .methodNotAllowed(allow: allow)
    }

    static func indexByLength(_ routes: [HTTPRoute]) -> [[Int]] {
        var index: [[Int]] = Array(repeating: [], count: (routes.map(\.segments.count).max() ?? 0) + 1)
        for (position, route) in routes.enumerated() { index[route.segments.count].append(position) }
        return index
    }

    static func pathMatches(_ pattern: [RouteSegment], _ path: [String]) -> Bool {
        guard pattern.count == path.count else { return false }
        for (segment, value) in zip(pattern, path) {
            switch segment {
            case .literal(let literal): if literal != value { return false }
            case .parameter: if value.isEmpty { return false }
            }
        }
        return true
    }

    /// > 0 when `a` is more specific than `b` (a literal where `b` has a parameter, first
    /// difference from the left), < 0 when less, 0 when equally specific.
    static func compareSpecificity(_ a: [RouteSegment], _ b: [RouteSegment]) -> Int {
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.literal, .parameter): return 1
            case (.parameter, .literal): return -1
            default: continue
            }
        }
        return 0
    }
}
