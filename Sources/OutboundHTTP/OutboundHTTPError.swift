import Foundation

/// Why a webhook request did not get an answer: a code, the errno or TLS detail captured where
/// it happened. `description` is safe to store as the delivery's `last_error` and show an operator.
public struct OutboundHTTPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which step failed (stable text, stored in `last_error`).
    public enum Code: String, Sendable {
        case invalidURL = "invalid_url"
        case resolve
        /// Every address of the host is non-public and `webhooks.allow_private_networks` is off:
        /// nothing was connected to (one message for every such host, whatever its addresses).
        case blockedAddress = "blocked_address"
        case connect
        case connectTimeout = "connect_timeout"
        case tls
        case io
        case responseTimeout = "response_timeout"
        case malformedResponse = "malformed_response"
        case closedEarly = "closed_early"
    }

    /// The one text of `.blockedAddress`: it does not say which address or range, so a stored
    /// `last_error` tells nothing about the private network behind a name.
    public static let blockedDetail =
        "not connected: the host has no public address (webhooks.allow_private_networks is off)"

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

/// Text a receiver controls (a `Location` header, a status line, an error quoting them) made
/// safe to store as `last_error` and to log: control characters (C0, DEL, C1), Unicode format
/// characters (bidi overrides, zero-width) and line/paragraph separators are removed, and the
/// result is cut to `maxLength` characters (ending in `…` when cut).
public enum ReceiverText {
    public static func sanitized(_ text: String, maxLength: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: continue
            default: scalars.append(scalar)
            }
        }
        let clean = String(scalars)
        guard clean.count > maxLength else { return clean }
        return String(clean.prefix(max(0, maxLength - 1))) + "…"
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
