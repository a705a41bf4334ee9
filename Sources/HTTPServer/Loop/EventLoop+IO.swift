#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The per-connection I/O of an event loop: registering sockets, reading into the state
/// machine, carrying out its actions, writing with EPOLLOUT on EAGAIN, and closing.
extension EventLoop {
    /// How long a half-closed connection keeps draining the peer's input before the close.
    static let lingerTime: Nanoseconds = .seconds(2)

    func open(fd: Int32, peer: String, rejecting: Bool, now: Nanoseconds) {
        SocketIO.setNoDelay(fd)
        var session: TLSSession?
        if let tls = context.tls {
            do {
                session = try tls.makeSession(fd: fd)
            } catch {
                context.logger.warning("TLS session failed",
                                       metadata: context.configuration.logPrivacy.peer(peer).merging(["error": "\(error)"]) { a, _ in a })
                Glibc.close(fd)
                release(rejecting: rejecting)
                return
            }
        }
        let token = takeToken()
        let machine = ConnectionStateMachine(settings: context.machineSettings, router: context.router,
                                             remoteAddress: peer, requestIDs: requestIDs, now: now)
        let connection = Connection(token: token, fd: fd, peer: peer, tls: session, rejecting: rejecting, machine: machine)
        connection.interest = .read
        do {
            try epoll.add(fd, events: .read, token: token)
        } catch {
            context.logger.error("epoll registration failed", metadata: ["error": "\(error)"])
            connection.close()
            release(rejecting: rejecting)
            return
        }
        connections[token] = connection
        if session == nil { started(connection, now: now) }
    }

    /// The transport is ready (plain: at once; TLS: after the handshake).
    private func started(_ connection: Connection, now: Nanoseconds) {
        guard connection.rejecting else { return }
        drive(connection, now: now) {
            $0.reject(status: .serviceUnavailable, detail: "Too many connections; retry shortly.",
                      retryAfter: 1, now: now, into: &$1)
        }
    }

    func handle(token: UInt64, events: Epoll.Events) {
        guard let connection = connections[token] else { return }
        let now = monotonicNow()
        if connection.handshaking {
            handshake(connection, now: now)
            return
        }
        if events.contains(.write) && connection.hasPendingOutput {
            write(connection, now: now)
            if connection.isClosed { return }
        }
        let broken = events.contains(.hangup) || events.contains(.error)
        guard events.contains(.read) || broken else { return }
        if connection.lingerDeadline != nil {
            discardInput(connection)
        } else if connection.machine.wantsRead {
            readable(connection, now: now)
        } else if broken {
            finish(connection)  // the peer is gone; an answer in flight has nowhere to go
        } else {
            updateInterest(connection)
        }
    }

    private func handshake(_ connection: Connection, now: Nanoseconds) {
        guard let tls = connection.tls else { return }
        switch tls.handshake() {
        case .bytes:
            connection.handshaking = false
            connection.transportWantsWrite = false
            updateInterest(connection)
            started(connection, now: now)
            if !connection.isClosed, connection.machine.wantsRead { readable(connection, now: now) }
        case .wouldBlock(let wantWrite):
            connection.transportWantsWrite = wantWrite
            updateInterest(connection)
        case .eof, .failed:
            finish(connection)
        }
    }

    func readable(_ connection: Connection, now: Nanoseconds) {
        var reads = 0
        // Plain sockets: a few reads per turn, fair to other connections. TLS: keep going while
        // OpenSSL holds decrypted bytes, which epoll cannot report.
        while !connection.isClosed, connection.machine.wantsRead, reads < 8 || connection.hasBufferedInput {
            reads += 1
            let result = connection.read(into: readBuffer)
            switch result {
            case .bytes(let n):
                drive(connection, now: now) { $0.received(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]), now: now, into: &$1) }
                if n < readBuffer.count && connection.tls == nil { return }
            case .wouldBlock(let wantWrite):
                if connection.transportWantsWrite != wantWrite {
                    connection.transportWantsWrite = wantWrite
                    updateInterest(connection)
                }
                return
            case .eof:
                drive(connection, now: now) { $0.peerClosed(now: now, into: &$1) }
                return
            case .failed(let reason):
                context.logger.debug("read failed",
                                     metadata: context.configuration.logPrivacy.peer(connection.peer).merging(["reason": "\(reason)"]) { a, _ in a })
                finish(connection)
                return
            }
        }
    }

    /// Carries out the state machine's actions, then writes what they produced.
    func perform(_ actions: [ConnectionStateMachine.Action], on connection: Connection, now: Nanoseconds) {
        for action in actions {
            switch action {
            case .write(let bytes):
                connection.enqueue(bytes)
            case .writeFile(let file):
                connection.enqueue(file)
            case .dispatch(let slot, let request, let handler):
                dispatch(slot: slot, request: request, handler: handler, on: connection, now: now)
            case .log(let record):
                log(record, peer: connection.peer)
            case .close(let linger):
                connection.closeAfterFlush = true
                connection.linger = linger
            }
        }
        if connection.hasPendingOutput || connection.closeAfterFlush {
            write(connection, now: now)
        } else {
            updateInterest(connection)
        }
    }

    /// Queues a request for the worker pool; `submitDispatches()` hands the whole batch over
    /// once per loop turn (one lock, one wake-up per idle worker instead of one per request).
    private func dispatch(slot: UInt64, request: HTTPRequest, handler: @escaping HTTPHandler,
                          on connection: Connection, now: Nanoseconds) {
        pendingDispatches.append(PendingDispatch(token: connection.token, slot: slot, request: request, handler: handler))
    }

    /// Submits the requests parsed this turn; those the pool refuses get `503` + `Retry-After`.
    func submitDispatches() {
        guard !pendingDispatches.isEmpty else { return }
        let batch = pendingDispatches
        pendingDispatches.removeAll(keepingCapacity: true)
        let logger = context.logger, privacy = context.configuration.logPrivacy
        let jobs: [WorkerPool.Job] = batch.map { item in
            { [self] in
                let response = HandlerRunner.run(item.handler, item.request, logger: logger, privacy: privacy)
                self.deliver(token: item.token, slot: item.slot, response: response)
            }
        }
        let accepted = context.pool.submit(jobs)
        guard accepted < batch.count else { return }
        let now = monotonicNow()
        for item in batch[accepted...] {
            guard let connection = connections[item.token] else { continue }
            drive(connection, now: now) { $0.dispatchRejected(slot: item.slot, now: now, into: &$1) }
        }
        submitDispatches()  // a 503 never dispatches, but keep the invariant: nothing left behind
    }

    private func write(_ connection: Connection, now: Nanoseconds) {
        switch connection.flush() {
        case .bytes(let n):
            if n > 0 { connection.machine.wrote(now: now) }
            if connection.closeAfterFlush {
                if connection.linger && connection.lingerDeadline == nil {
                    connection.shutdownWrite()
                    connection.lingerDeadline = now &+ Self.lingerTime
                } else if !connection.linger {
                    finish(connection)
                    return
                }
            }
            updateInterest(connection)
        case .wouldBlock:
            updateInterest(connection)
        case .eof, .failed:
            finish(connection)
        }
    }

    /// Reads and drops whatever the peer still sends during a lingering close; closes on EOF.
    private func discardInput(_ connection: Connection) {
        for _ in 0..<16 {
            switch SocketIO.read(connection.fd, into: readBuffer) {
            case .bytes: continue
            case .wouldBlock: return
            case .eof, .failed:
                finish(connection)
                return
            }
        }
    }

    func updateInterest(_ connection: Connection) {
        guard !connection.isClosed else { return }
        var wanted: Epoll.Events = []
        if connection.handshaking {
            wanted = connection.transportWantsWrite ? .write : .read
        } else if connection.lingerDeadline != nil {
            wanted = .read
        } else {
            if connection.machine.wantsRead && connection.output.count < 1 << 20 { wanted.insert(.read) }
            if connection.hasPendingOutput || connection.transportWantsWrite { wanted.insert(.write) }
        }
        guard wanted != connection.interest else { return }
        do {
            try epoll.modify(connection.fd, events: wanted, token: connection.token)
            connection.interest = wanted
        } catch {
            finish(connection)
        }
    }

    /// Closes and forgets a connection.
    func finish(_ connection: Connection) {
        guard !connection.isClosed else { return }
        epoll.remove(connection.fd)
        connection.close()
        connections[connection.token] = nil
        release(rejecting: connection.rejecting)
    }

    private func release(rejecting: Bool) {
        if rejecting {
            context.rejectingConnections.subtract(1, ordering: .relaxed)
        } else {
            context.activeConnections.subtract(1, ordering: .relaxed)
        }
    }

    private func log(_ record: ConnectionStateMachine.RequestRecord, peer: String) {
        let privacy = context.configuration.logPrivacy
        context.logger.info("request", metadata: privacy.peer(peer).merging([
            "method": "\(record.method)",
            "path": "\(privacy.target(record.path))",
            "status": "\(record.status)",
            "duration_ms": "\(Double(record.durationNanoseconds / 1000) / 1000)",
            "request.id": "\(record.requestID)",
        ]) { a, _ in a })
    }
}

extension EventLoop {
    /// Runs one input of `connection`'s state machine and carries out the actions it returns.
    /// The action list is a reused scratch array, so a request costs no allocation for it.
    func drive(_ connection: Connection, now: Nanoseconds,
               _ input: (inout ConnectionStateMachine, inout [ConnectionStateMachine.Action]) -> Void) {
        var actions = scratchActions
        scratchActions = []
        actions.removeAll(keepingCapacity: true)
        input(&connection.machine, &actions)
        if !actions.isEmpty { perform(actions, on: connection, now: now) }
        scratchActions = actions
    }
}
