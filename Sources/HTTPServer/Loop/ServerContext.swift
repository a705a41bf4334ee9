import Logging
import Synchronization

/// What every loop and the acceptor share: read-only settings, the router, the worker pool,
/// the TLS context, the logger, and the live connection count.
final class ServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let router: HTTPRouter
    let logger: Logger
    let pool: WorkerPool
    let tls: TLSContext?
    let machineSettings: ConnectionStateMachine.Settings
    /// Connections being served (not counting rejected ones); the acceptor admits against it.
    let activeConnections = Atomic<Int>(0)
    /// Connections accepted beyond the maximum that are still being answered `503`.
    let rejectingConnections = Atomic<Int>(0)

    init(configuration: HTTPServerConfiguration, router: HTTPRouter, logger: Logger, pool: WorkerPool, tls: TLSContext?) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.pool = pool
        self.tls = tls
        var settings = ConnectionStateMachine.Settings()
        settings.parserLimits = configuration.parserLimits
        settings.headerReadTimeout = .seconds(configuration.headerReadTimeout)
        settings.idleTimeout = .seconds(configuration.idleTimeout)
        settings.maxPipelinedRequests = max(1, configuration.maxPipelinedRequests)
        self.machineSettings = settings
    }

    /// How often loops check timers: a quarter of the shortest timeout, 5 ms to 250 ms.
    var sweepInterval: Nanoseconds {
        let shortest = min(configuration.headerReadTimeout, configuration.idleTimeout)
        return .seconds(min(0.25, max(0.005, shortest / 4)))
    }
}

/// Runs a handler on a worker thread and turns whatever it throws into an answer, so a failing
/// handler never takes the server down: the one place errors become responses. An
/// `HTTPResponseError` answers its own problem document; anything else is logged and a 500.
enum HandlerRunner {
    static func run(_ handler: HTTPHandler, _ request: HTTPRequest, logger: Logger, privacy: LogPrivacy = LogPrivacy()) -> HTTPResponse {
        do {
            return try handler(request)
        } catch let error as any HTTPResponseError {
            return error.response(requestID: request.requestID)
        } catch {
            logger.error("handler failed", metadata: [
                "method": "\(request.head.method)", "path": "\(privacy.target(request.head.path))",
                "request.id": "\(request.requestID)", "error": "\(String(reflecting: error))",
            ])
            return HTTPResponse.problem(.internalServerError, detail: "The server failed to handle the request.",
                                        requestID: request.requestID)
        }
    }
}
