/// The protocol logic of one HTTP/1.1 connection, with no sockets, threads or clocks in it:
/// the event loop feeds it bytes, worker results and the time, and performs the `Action`s it
/// returns. Kept pure so that keep-alive, pipelining order, `Expect: 100-continue`, limits and
/// timeouts are unit-tested byte for byte (the shape follows postgres-nio's connection state
/// machine).
struct ConnectionStateMachine {
    /// What the I/O layer must do next, in order.
    enum Action {
        /// Append these bytes to the connection's output.
        case write([UInt8])
        /// Append this file's bytes to the output (a spooled body, sent chunk by chunk).
        case writeFile(HTTPBodyFile)
        /// Run `handler` for `request` on the worker pool and report back with `complete`
        /// (or `dispatchRejected` when the pool is full).
        case dispatch(slot: UInt64, request: HTTPRequest, handler: HTTPHandler)
        /// One finished exchange, for the access log.
        case log(RequestRecord)
        /// Close once the output is flushed; `linger` means half-close and drain the input first,
        /// so a client still sending (a rejected body) reads our answer instead of a reset.
        case close(linger: Bool)
    }

    /// What the access log line says about one request.
    struct RequestRecord: Equatable {
        var method: String
        var path: String
        var status: Int
        var requestID: String
        var durationNanoseconds: UInt64
    }

    /// Settings the machine needs (a subset of the server configuration).
    struct Settings {
        var parserLimits = HTTPParserLimits()
        var headerReadTimeout: Nanoseconds = .seconds(10)
        var idleTimeout: Nanoseconds = .seconds(60)
        /// Requests parsed ahead of their answers (pipelining depth); reading pauses beyond it.
        var maxPipelinedRequests = 16
    }

    /// The response slots in request order: answers leave strictly in this order.
    struct Slot {
        enum State { case pending, ready(HTTPResponse), interim([UInt8]) }
        var id: UInt64
        var state: State
        var method: HTTPMethod
        var path: String
        var version: HTTPVersion
        var keepAlive: Bool
        var requestID: String
        var started: Nanoseconds
        /// The connection closes after this answer (parse error, rejection, `Connection: close`).
        var last: Bool
    }

    /// The request whose body is being read.
    enum Current {
        case none
        case collecting(head: HTTPRequestHead, handler: HTTPHandler, parameters: [String: String],
                        body: [UInt8], requestID: String, started: Nanoseconds)
        case discarding(head: HTTPRequestHead, response: HTTPResponse, requestID: String, started: Nanoseconds)
    }

    let settings: Settings
    let router: HTTPRouter
    let remoteAddress: String
    var parser: HTTPRequestParser
    var slots: [Slot] = []
    var current = Current.none
    var nextSlotID: UInt64 = 1
    let requestIDs: RequestIDGenerator
    /// No further request is parsed (last one seen, parse error, peer EOF or draining).
    var noMoreRequests = false
    var draining = false
    var closed = false
    /// When the head being read began (or the connection was accepted), for the 408 timer.
    var headStarted: Nanoseconds?
    var lastActivity: Nanoseconds
    /// Nothing has arrived yet: a connection that stays silent is closed after the header timeout.
    var receivedAny = false

    init(settings: Settings, router: HTTPRouter, remoteAddress: String, requestIDs: RequestIDGenerator,
         now: Nanoseconds) {
        self.settings = settings
        self.router = router
        self.remoteAddress = remoteAddress
        self.requestIDs = requestIDs
        self.parser = HTTPRequestParser(limits: settings.parserLimits)
        self.lastActivity = now
        self.headStarted = now
    }

    /// Whether the I/O layer should read from the socket now (false while answers are
    /// backed up, after the last request, or once closing).
    var wantsRead: Bool { !closed && !noMoreRequests && slots.count < settings.maxPipelinedRequests }

    /// Whether the connection has finished (a `close` action was returned).
    var isClosed: Bool { closed }

    /// Answers `503` and closes, for a connection accepted beyond `maxConnections`.
    mutating func reject(status: HTTPStatus, detail: String, retryAfter: Int?, now: Nanoseconds, into actions: inout [Action]) {
        let requestID = requestIDs.next()
        var response = HTTPResponse.problem(status, detail: detail, requestID: requestID)
        if let retryAfter { response.headers.set("Retry-After", String(retryAfter)) }
        enqueueFinal(response, method: HTTPMethod(rawValue: "-"), path: "-", version: .http11,
                     requestID: requestID, now: now)
        flush(now: now, into: &actions)
    }

    /// Bytes arrived from the peer.
    mutating func received(_ bytes: UnsafeRawBufferPointer, now: Nanoseconds, into actions: inout [Action]) {
        guard !closed else { return }
        lastActivity = now
        receivedAny = true
        if headStarted == nil, case .none = current { headStarted = now }
        parser.append(bytes)
        pump(now: now, into: &actions)
    }

    /// A worker finished the request in `slot`.
    mutating func complete(slot id: UInt64, response: HTTPResponse, now: Nanoseconds, into actions: inout [Action]) {
        guard !closed, let index = slots.firstIndex(where: { $0.id == id }) else { return }
        slots[index].state = .ready(response)
        lastActivity = now
        flush(now: now, into: &actions)
        pump(now: now, into: &actions)
    }

    /// The worker pool and its queue were full: the request in `slot` gets `503` + `Retry-After`.
    mutating func dispatchRejected(slot id: UInt64, now: Nanoseconds, into actions: inout [Action]) {
        let requestID = slots.first(where: { $0.id == id })?.requestID
        var response = HTTPResponse.problem(.serviceUnavailable, detail: "The server is busy; retry shortly.",
                                            requestID: requestID)
        response.headers.set("Retry-After", "1")
        complete(slot: id, response: response, now: now, into: &actions)
    }

    /// The peer closed its sending side: answer what is in flight, then close.
    mutating func peerClosed(now: Nanoseconds, into actions: inout [Action]) {
        guard !closed else { return }
        noMoreRequests = true
        current = .none
        // A `100 Continue` for a body that will never come has nothing left to announce.
        while let last = slots.last, case .interim = last.state { slots.removeLast() }
        if slots.isEmpty { closeNow(linger: false, into: &actions) }
        else { slots[slots.count - 1].last = true }
    }

    /// The output buffer drained (or made progress): counts as activity for the idle timer.
    mutating func wrote(now: Nanoseconds) { lastActivity = now }

    /// The server is shutting down: idle connections close now; busy ones finish what is in
    /// flight, answer it with `Connection: close`, then close.
    mutating func beginDrain(now: Nanoseconds, into actions: inout [Action]) {
        guard !closed, !draining else { return }
        draining = true
        if slots.isEmpty, case .none = current, !parser.hasPartialMessage {
            closeNow(linger: false, into: &actions)
        } else if let i = slots.indices.last, case .none = current, !parser.hasPartialMessage {
            slots[i].last = true
            noMoreRequests = true
        }
    }

    /// Checks the timers: a head not complete within `headerReadTimeout` gets `408` and a close
    /// (slowloris); an idle keep-alive connection closes silently after `idleTimeout`; a body or
    /// an output that makes no progress for `idleTimeout` is dropped.
    mutating func tick(now: Nanoseconds, outputPending: Bool, into actions: inout [Action]) {
        guard !closed else { return }
        if outputPending {
            if now &- lastActivity >= settings.idleTimeout { closeNow(linger: false, into: &actions) }
            return
        }
        if !slots.isEmpty { return }  // a handler is running; its answer will come
        switch current {
        case .collecting, .discarding:
            if now &- lastActivity >= settings.idleTimeout {
                timeout(now: now, detail: "The request body did not arrive in time.", into: &actions)
            }
        case .none:
            if let started = headStarted, parser.hasPartialMessage {
                if now &- started >= settings.headerReadTimeout {
                    timeout(now: now, detail: "The request head did not arrive in time.", into: &actions)
                }
            } else if !receivedAny, now &- lastActivity >= settings.headerReadTimeout {
                closeNow(linger: false, into: &actions)  // accepted, never sent a byte
            } else if now &- lastActivity >= settings.idleTimeout {
                closeNow(linger: false, into: &actions)
            }
        }
    }

    // MARK: - Output

    /// Writes every answer at the front of the queue that is ready, in order.
    mutating func flush(now: Nanoseconds, into actions: inout [Action]) {
        var out: [UInt8] = []
        while !closed, let first = slots.first {
            switch first.state {
            case .pending:
                emit(&out, into: &actions)
                return
            case .interim(let bytes):
                out.append(contentsOf: bytes)
                slots.removeFirst()
            case .ready(var response):
                let keepAlive = first.keepAlive && !first.last
                if !response.headers.contains("X-Request-Id") { response.headers.add("X-Request-Id", first.requestID) }
                HTTPResponseWriter.serialize(response, requestMethod: first.method, version: first.version,
                                             keepAlive: keepAlive, into: &out)
                if let file = HTTPResponseWriter.fileBody(of: response, requestMethod: first.method) {
                    emit(&out, into: &actions)
                    actions.append(.writeFile(file))
                }
                slots.removeFirst()
                actions.append(.log(RequestRecord(
                    method: first.method.rawValue, path: first.path, status: response.status.code,
                    requestID: first.requestID, durationNanoseconds: now &- first.started)))
                if !keepAlive {
                    emit(&out, into: &actions)
                    // Unread input (a refused body, a half-sent request) needs a lingering close.
                    closeNow(linger: true, into: &actions)
                    return
                }
            }
        }
        emit(&out, into: &actions)
        if !closed && draining && slots.isEmpty, case .none = current, !parser.hasPartialMessage {
            closeNow(linger: false, into: &actions)
        }
    }

    func emit(_ out: inout [UInt8], into actions: inout [Action]) {
        if !out.isEmpty { actions.append(.write(out)); out = [] }
    }

    mutating func closeNow(linger: Bool, into actions: inout [Action]) {
        guard !closed else { return }
        closed = true
        slots.removeAll()
        current = .none
        actions.append(.close(linger: linger))
    }

    mutating func takeSlotID() -> UInt64 {
        defer { nextSlotID &+= 1 }
        return nextSlotID
    }
}
