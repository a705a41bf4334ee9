import Foundation

/// Why a webhook request did not get an answer: a code, the errno or TLS detail captured where
/// it happened. `description` is safe to store as the delivery's `last_error` and show an operator.
public struct OutboundHTTPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which step failed (stable text, stored in `last_error`).
    public enum Code: String, Sendable {
        case invalidURL = "invalid_url"
        case resolve
        case connect
        case connectTimeout = "connect_timeout"
        case tls
        case io
        case responseTimeout = "response_timeout"
        case malformedResponse = "malformed_response"
        case closedEarly = "closed_early"
    }

    public var code: Code
    public var detail: String
    /// errno at the failing call, when a system call failed.
    public var errno: Int32?

    /// A failure of `code`; `errno` as captured right after the failing call.
    public init(_ code: Code, _ detail: String, errno: Int32? = nil) {
        self.code = code; self.detail = detail; self.errno = errno
    }

    public var description: String {
        var text = "\(code.rawValue): \(detail)"
        if let errno { text += " (errno \(errno): \(String(cString: strerror(errno))))" }
        return text
    }
}

/// A point in monotonic time by which an operation must finish.
struct Deadline {
    let uptimeNanoseconds: UInt64

    init(secondsFromNow seconds: Double) {
        uptimeNanoseconds = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
    }

    /// Milliseconds left for `poll` (0 when passed).
    var remainingMilliseconds: Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard uptimeNanoseconds > now else { return 0 }
        return Int32(clamping: (uptimeNanoseconds - now + 999_999) / 1_000_000)
    }
}
