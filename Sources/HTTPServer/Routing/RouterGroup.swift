/// Routes that share a path prefix and middleware, declared once:
///
/// ```swift
/// router.group("/v1/leads", context: APIContext.self, middleware: [Authenticate(scope: .read)]) { leads in
///     leads.get("/{id}") { request, context in … }          // GET /v1/leads/{id}, authenticated
///     leads.group("/{id}/notes", middleware: [Audit()]) { notes in notes.post { … } }
/// }
/// ```
///
/// A group is a builder: the routes it collects are added to the router when the closure
/// that received it returns. Each route's chain (the middleware of every enclosing group, outer
/// first, then the handler) is composed once, at registration; the router and the server only
/// ever see a plain `HTTPHandler`, so matching, 404 and 405 are exactly the router's.
public struct RouterGroup<Context: RequestContext>: Sendable {
    /// The prefix of every route in the group, e.g. `/v1/leads`.
    public let prefix: String
    let middleware: [any RouterMiddleware<Context>]
    var collected = HTTPRouter()

    init(prefix: String, middleware: [any RouterMiddleware<Context>]) {
        self.prefix = prefix
        self.middleware = middleware
    }

    /// Registers `handler` for `method` at the group's prefix followed by `path` (empty: the
    /// prefix itself), behind the group's middleware. `maxBodyBytes` as in `HTTPRouter.add`.
    public mutating func add(_ method: HTTPMethod, _ path: String = "", maxBodyBytes: Int? = nil,
                             _ handler: @escaping RouterResponder<Context>) {
        let pattern = Self.join(prefix, path)
        let route = RouteInfo(method: method, pattern: pattern)
        let responder = MiddlewareChain.build(middleware, handler)
        collected.add(method, pattern, maxBodyBytes: maxBodyBytes) { request in
            try responder(request, Context(route: route))
        }
    }

    public mutating func get(_ path: String = "", _ handler: @escaping RouterResponder<Context>) {
        add(.GET, path, handler)
    }
    public mutating func post(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping RouterResponder<Context>) {
        add(.POST, path, maxBodyBytes: maxBodyBytes, handler)
    }
    public mutating func put(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping RouterResponder<Context>) {
        add(.PUT, path, maxBodyBytes: maxBodyBytes, handler)
    }
    public mutating func patch(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping RouterResponder<Context>) {
        add(.PATCH, path, maxBodyBytes: maxBodyBytes, handler)
    }
    public mutating func delete(_ path: String = "", _ handler: @escaping RouterResponder<Context>) {
        add(.DELETE, path, handler)
    }

    /// A nested group: its prefix follows this group's, its middleware runs inside this group's.
    /// An empty `path` gives routes of the same prefix their own middleware.
    public mutating func group(_ path: String = "", middleware: [any RouterMiddleware<Context>] = [],
                               _ build: (inout RouterGroup<Context>) throws -> Void) rethrows {
        var child = RouterGroup(prefix: Self.join(prefix, path, allowEmpty: true), middleware: self.middleware + middleware)
        try build(&child)
        collected.append(child.collected)
    }

    /// `prefix` + `path`, with exactly one `/` between them; a trailing `/` of `path` is kept
    /// (matching is exact, so `/v1/leads/` is another route than `/v1/leads`).
    static func join(_ prefix: String, _ path: String, allowEmpty: Bool = false) -> String {
        var head = prefix
        while head.hasSuffix("/") { head.removeLast() }
        if path.isEmpty { return head.isEmpty && !allowEmpty ? "/" : head }
        return path.hasPrefix("/") ? head + path : head + "/" + path
    }
}

extension HTTPRouter {
    /// Adds the routes `build` registers on a group with `prefix` and `middleware`, each request
    /// getting a fresh `Context`.
    public mutating func group<Context: RequestContext>(_ prefix: String = "", context: Context.Type,
                                                        middleware: [any RouterMiddleware<Context>] = [],
                                                        _ build: (inout RouterGroup<Context>) throws -> Void) rethrows {
        var group = RouterGroup<Context>(prefix: RouterGroup<Context>.join("", prefix, allowEmpty: true), middleware: middleware)
        try build(&group)
        append(group.collected)
    }

    /// A group whose context is `BasicRequestContext`.
    public mutating func group(_ prefix: String = "", middleware: [any RouterMiddleware<BasicRequestContext>] = [],
                               _ build: (inout RouterGroup<BasicRequestContext>) throws -> Void) rethrows {
        try group(prefix, context: BasicRequestContext.self, middleware: middleware, build)
    }
}
