/// Request intake of the connection state machine: parser events become routed requests,
/// refusals (404/405/413), parse-error answers and timeouts, queued in request order.
extension ConnectionStateMachine {
    mutating func pump(now: Nanoseconds, into actions: inout [Action]) {
        while !closed && !noMoreRequests && slots.count < settings.maxPipelinedRequests {
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                failParse(error, now: now, into: &actions)
                break
            }
            guard let event else { break }
            switch event {
            case .head(let head): onHead(head, now: now, into: &actions)
            case .body(let bytes): onBody(bytes)
            case .end: onEnd(now: now, into: &actions)
            }
        }
        flush(now: now, into: &actions)
    }

    private mutating func onHead(_ head: HTTPRequestHead, now: Nanoseconds, into actions: inout [Action]) {
        headStarted = nil
        let requestID = requestIDs.id(echoing: head.headers["X-Request-Id"])
        switch router.match(method: head.method, path: head.path) {
        case .found(let route, let parameters):
            let limit = route.maxBodyBytes ?? settings.parserLimits.maxBodyBytes
            if let length = head.headers["Content-Length"].flatMap({ Int($0) }), length > limit {
                rejectHead(head, requestID: requestID, now: now, status: .contentTooLarge,
                           detail: "The request body exceeds \(limit) bytes.")
                return
            }
            parser.setBodyLimit(limit)
            if head.expectsContinue {
                slots.append(Slot(id: takeSlotID(), state: .interim(HTTPResponseWriter.continueLine),
                                  method: head.method, path: head.path, version: head.version,
                                  keepAlive: true, requestID: requestID, started: now, last: false))
            }
            current = .collecting(head: head, handler: route.handler, parameters: parameters,
                                  body: [], requestID: requestID, started: now)
        case .notFound:
            refuse(head, HTTPResponse.problem(.notFound, detail: "No resource at \(head.path).", requestID: requestID),
                   requestID: requestID, now: now)
        case .methodNotAllowed(let allow):
            var response = HTTPResponse.problem(
                .methodNotAllowed, detail: "\(head.method) is not allowed on \(head.path).", requestID: requestID)
            response.headers.set("Allow", allow.map(\.rawValue).joined(separator: ", "))
            refuse(head, response, requestID: requestID, now: now)
        }
    }

    /// Answers a request no route takes. Its body (if any) is read and dropped so the next
    /// pipelined request stays in sync — unless the client waits for `100 Continue`, in which
    /// case it gets the answer at once and the connection closes.
    private mutating func refuse(_ head: HTTPRequestHead, _ response: HTTPResponse, requestID: String, now: Nanoseconds) {
        if head.expectsContinue {
            enqueueFinal(response, method: head.method, path: head.path, version: head.version,
                         requestID: requestID, now: now)
            return
        }
        parser.setBodyLimit(settings.parserLimits.maxBodyBytes)
        current = .discarding(head: head, response: response, requestID: requestID, started: now)
    }

    private mutating func rejectHead(_ head: HTTPRequestHead, requestID: String, now: Nanoseconds,
                                     status: HTTPStatus, detail: String) {
        enqueueFinal(HTTPResponse.problem(status, detail: detail, requestID: requestID), method: head.method,
                     path: head.path, version: head.version, requestID: requestID, now: now)
    }

    private mutating func onBody(_ bytes: [UInt8]) {
        guard case .collecting(let head, let handler, let parameters, var body, let id, let started) = current else { return }
        current = .none  // keeps `body` uniquely referenced while appending
        if body.isEmpty { body = bytes } else { body.append(contentsOf: bytes) }
        current = .collecting(head: head, handler: handler, parameters: parameters, body: body,
                              requestID: id, started: started)
    }

    private mutating func onEnd(now: Nanoseconds, into actions: inout [Action]) {
        let finished = current
        current = .none
        switch finished {
        case .none:
            return
        case .collecting(let head, let handler, let parameters, let body, let requestID, let started):
            let id = takeSlotID()
            let last = !head.keepAlive || draining
            slots.append(Slot(id: id, state: .pending, method: head.method, path: head.path,
                              version: head.version, keepAlive: head.keepAlive, requestID: requestID,
                              started: started, last: last))
            if last { noMoreRequests = true }
            let request = HTTPRequest(head: head, body: body, pathParameters: parameters,
                                      query: HTTPQuery.parse(head.rawQuery),
                                      requestID: requestID, remoteAddress: remoteAddress)
            actions.append(.dispatch(slot: id, request: request, handler: handler))
        case .discarding(let head, let response, let requestID, let started):
            let last = !head.keepAlive || draining
            slots.append(Slot(id: takeSlotID(), state: .ready(response), method: head.method, path: head.path,
                              version: head.version, keepAlive: head.keepAlive, requestID: requestID,
                              started: started, last: last))
            if last { noMoreRequests = true }
        }
        if parser.hasPartialMessage { headStarted = now }
    }

    private mutating func failParse(_ error: HTTPParseError, now: Nanoseconds, into actions: inout [Action]) {
        let (method, path, version): (HTTPMethod, String, HTTPVersion)
        switch current {
        case .collecting(let head, _, _, _, _, _), .discarding(let head, _, _, _):
            (method, path, version) = (head.method, head.path, head.version)
        case .none:
            (method, path, version) = (HTTPMethod(rawValue: "-"), "-", .http11)
        }
        current = .none
        let requestID = requestIDs.next()
        enqueueFinal(HTTPResponse.problem(error.status, detail: error.reason, requestID: requestID), method: method,
                     path: path, version: version, requestID: requestID, now: now)
    }

    mutating func timeout(now: Nanoseconds, detail: String, into actions: inout [Action]) {
        current = .none
        let requestID = requestIDs.next()
        enqueueFinal(HTTPResponse.problem(.requestTimeout, detail: detail, requestID: requestID),
                     method: HTTPMethod(rawValue: "-"), path: "-", version: .http11,
                     requestID: requestID, now: now)
        flush(now: now, into: &actions)
    }

    /// Queues a final answer after which the connection closes.
    mutating func enqueueFinal(_ response: HTTPResponse, method: HTTPMethod, path: String,
                                       version: HTTPVersion, requestID: String, now: Nanoseconds) {
        noMoreRequests = true
        slots.append(Slot(id: takeSlotID(), state: .ready(response), method: method, path: path,
                          version: version, keepAlive: false, requestID: requestID, started: now, last: true))
    }
}
