import Essentials
import Foundation

/// The `X-Leadrouter-Signature: t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>` scheme,
/// used for outbound webhooks and, optionally per write key, for inbound `POST /v1/events`.
/// The timestamp is inside the MAC so a captured request cannot be replayed outside the tolerance.
public enum SignatureScheme {
    /// The header value for `body` signed with `secret` at `timestamp` (unix seconds).
    public static func sign(body: some Collection<UInt8>, secret: [UInt8], timestamp: Int) -> String {
        "t=\(timestamp),v1=\(Hex.encode(mac(body: body, secret: secret, timestamp: timestamp)))"
    }

    /// Why a signature was refused; `description` is safe to show to the sender.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missing
        case malformed
        case timestampOutsideTolerance(skewSeconds: Int, toleranceSeconds: Int)
        case mismatch

        public var description: String {
            switch self {
            case .missing: return "the X-Leadrouter-Signature header is required for this write key"
            case .malformed: return "X-Leadrouter-Signature must look like t=<unix seconds>,v1=<hex HMAC-SHA256>"
            case let .timestampOutsideTolerance(skew, tolerance):
                return "the signature timestamp is \(skew)s away from the server clock (tolerance \(tolerance)s)"
            case .mismatch: return "no v1 signature matches the body"
            }
        }
    }

    /// Checks `header` against `body`. Several `v1=` entries are allowed (secret rotation):
    /// one matching is enough. `now` is unix seconds.
    public static func verify(header: String?, body: some Collection<UInt8>, secret: [UInt8],
                              now: Int, toleranceSeconds: Int) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missing }
        var timestamp: Int?
        var candidates: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw .malformed }
            switch pair[0] {
            case "t":
                guard timestamp == nil, let t = parseTimestamp(pair[1]) else { throw .malformed }
                timestamp = t
            case "v1":
                guard let mac = Hex.decode(pair[1]), mac.count == 32 else { throw .malformed }
                candidates.append(mac)
            default:
                continue  // future schemes (v2=…) are ignored, not refused
            }
        }
        guard let timestamp, !candidates.isEmpty else { throw .malformed }
        // `timestamp` is 0…999 999 999 999 (parseTimestamp), but `now` is the caller's: the
        // difference is taken without trapping whatever both are (a trap here ends the process).
        let (difference, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, difference.magnitude <= UInt(max(0, toleranceSeconds)) else {
            let skew = overflow ? Int.max : Int(clamping: difference.magnitude)
            throw .timestampOutsideTolerance(skewSeconds: skew, toleranceSeconds: toleranceSeconds)
        }
        let expected = mac(body: body, secret: secret, timestamp: timestamp)
        // Evaluate every candidate so timing does not reveal which one matched.
        var matched = false
        for candidate in candidates where Crypto.constantTimeEquals(candidate, expected) { matched = true }
        guard matched else { throw .mismatch }
    }

    /// `t`: 1 to 12 ASCII digits (unix seconds up to the year 33658), nothing else — no sign,
    /// no spaces inside, no other digits — so what follows never sees an out-of-range value.
    static func parseTimestamp(_ text: String) -> Int? {
        let digits = Array(text.utf8)
        guard (1...12).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func mac(body: some Collection<UInt8>, secret: [UInt8], timestamp: Int) -> [UInt8] {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        return Crypto.hmacSHA256(key: secret, message: message)
    }
}
