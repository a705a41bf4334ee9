internal import CLibPQ
import Essentials
import Foundation
import Logging

/// The one owner of a `PGconn`: `PQfinish` runs exactly once, in `deinit`.
final class PGConnHandle {
    let raw: OpaquePointer
    /// Receives the server's NOTICE/WARNING messages; lives exactly as long as the connection.
    private var noticeSink: NoticeSink?

    private init(raw: OpaquePointer) { self.raw = raw }

    deinit {
        PQfinish(raw)
        noticeSink = nil
    }

    /// Sends server notices to `logger` instead of libpq's default (stderr).
    func routeNotices(to logger: Logger) {
        let sink = NoticeSink(logger: logger)
        noticeSink = sink
        PQsetNoticeReceiver(raw, { arg, result in
            guard let arg, let result else { return }
            Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(sink).toOpaque())
    }

    /// Opens a connection with `PQconnectdbParams`; throws `connectionFailed` with libpq's message.
    static func connect(_ configuration: PostgresConfiguration) throws -> PGConnHandle {
        let params = configuration.connectionParameters
        let keys = params.map { strdup($0.0) }
        let values = params.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPtrs: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePtrs: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let raw = PQconnectdbParams(&keyPtrs, &valuePtrs, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        let handle = PGConnHandle(raw: raw)  // owns raw from here on, also when failing below
        guard PQstatus(raw) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailed, message: handle.errorMessage)
        }
        return handle
    }

    /// libpq's last error message for this connection, folded to one line: libpq writes several
    /// (`FATAL: …` then `DETAIL: …`; `server closed the connection unexpectedly` then two tab-
    /// indented lines), and every error we build from it ends up in one log entry.
    var errorMessage: String {
        guard let cString = PQerrorMessage(raw) else { return "unknown libpq error" }
        let text = OneLine.fold(String(cString: cString))
        return text.isEmpty ? "unknown libpq error" : text
    }

    /// False once libpq has seen the connection break, or the server said (as a FATAL message
    /// between statements, e.g. `pg_terminate_backend`) that it is about to close it.
    var isOK: Bool { PQstatus(raw) == CONNECTION_OK && noticeSink?.fatalReceived != true }
}

/// Logs server notices (`RAISE NOTICE`, "relation already exists, skipping").
final class NoticeSink {
    let logger: Logger
    /// libpq hands an ERROR/FATAL that arrives while idle to the notice receiver; FATAL means
    /// the backend is going away.
    private(set) var fatalReceived = false

    init(logger: Logger) { self.logger = logger }

    func receive(_ result: OpaquePointer) {
        func field(_ code: UInt8) -> String {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) } ?? ""
        }
        let severity = field(UInt8(ascii: "V"))
        if severity == "FATAL" || severity == "PANIC" { fatalReceived = true }
        let metadata: Logger.Metadata = ["sqlstate": "\(field(UInt8(ascii: "C")))", "severity": "\(severity)"]
        if severity != "NOTICE" && severity != "DEBUG" && severity != "INFO" && severity != "LOG" {
            logger.warning("\(OneLine.fold(field(UInt8(ascii: "M"))))", metadata: metadata)
        } else {
            logger.debug("\(OneLine.fold(field(UInt8(ascii: "M"))))", metadata: metadata)
        }
    }
}

/// The one owner of a `PGresult`: `PQclear` runs exactly once, in `deinit`.
///
/// Immutable after creation, so reading it from several threads is safe.
final class PGResultHandle: @unchecked Sendable {
    let raw: OpaquePointer

    init(raw: OpaquePointer) { self.raw = raw }

    deinit { PQclear(raw) }

    var status: ExecStatusType { PQresultStatus(raw) }

    /// The server's diagnostic fields turned into our error; `connectionBroken` decides the code
    /// when the server sent no SQLSTATE. Every text field is folded to one line (a DETAIL or
    /// HINT can span several, and libpq's own messages do).
    func error(connectionBroken: Bool) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(raw, Int32(code)) else { return nil }
            return OneLine.fold(String(cString: value))
        }
        let sqlState = field(UInt8(ascii: "C")).map(SQLState.init(rawValue:))
        var message = field(UInt8(ascii: "M"))
        if message == nil, let full = PQresultErrorMessage(raw) {
            message = OneLine.fold(String(cString: full))
        }
        var error = PostgresError(
            code: .queryFailed, sqlState: sqlState,
            message: message ?? "statement failed", detail: field(UInt8(ascii: "D")),
            hint: field(UInt8(ascii: "H")), constraint: field(UInt8(ascii: "n")),
            table: field(UInt8(ascii: "t")), column: field(UInt8(ascii: "c")))
        if connectionBroken || error.isConnectionError {
            error.code = .connectionLost
        } else if sqlState == .queryCanceled {
            error.code = .timeout  // statement_timeout (or a cancel) ended the statement
        }
        return error
    }
}
