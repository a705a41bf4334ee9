/// The rest of a route's chain as a middleware sees it: the inner middleware, then the handler.
public typealias RouterResponder<Context: RequestContext> = @Sendable (HTTPRequest, Context) throws -> HTTPResponse

/// Code that wraps the handlers of a route group (authentication, error mapping, metrics, rate
/// limiting): it may answer itself, change the request or the context before calling `next`,
/// look at or replace the response, or catch what `next` throws. Middleware runs on the worker
/// thread with the handler, synchronously; it may block (e.g. on the database).
///
/// Order: a group's middleware runs in the order listed, after the middleware of the groups
/// around it; the first listed is outermost (sees the request first and the response last).
public protocol RouterMiddleware<Context>: Sendable {
    associatedtype Context: RequestContext
    /// Handles `request`; call `next` (at most once) to run the rest of the chain.
    func handle(_ request: HTTPRequest, context: Context,
                next: (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse
}

enum MiddlewareChain {
    /// `handler` wrapped by `middleware`, the first element outermost. Built once per route at
    /// registration, so a request costs one closure call per middleware and nothing else.
    static func build<Context: RequestContext>(_ middleware: [any RouterMiddleware<Context>],
                                               _ handler: @escaping RouterResponder<Context>) -> RouterResponder<Context> {
        var responder = handler
        for layer in middleware.reversed() {
            let next = responder
            responder = { request, context in try layer.handle(request, context: context, next: next) }
        }
        return responder
    }
}
