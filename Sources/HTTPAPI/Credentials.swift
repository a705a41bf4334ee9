import Essentials
import Foundation

/// Where a request's key came from. Segment SDKs send the write key as the HTTP Basic user
/// name (password empty) or as `writeKey` in the body; everything else uses Bearer.
public enum PresentedCredential: Equatable, Sendable {
    case bearer(String)
    case basicUser(String)
    case bodyWriteKey(String)

    /// The key text, whatever carried it.
    public var key: String {
        switch self {
        case let .bearer(k), let .basicUser(k), let .bodyWriteKey(k): return k
        }
    }
}

/// Reads the credential from an `Authorization` header value.
public enum CredentialParser {
    /// Why an Authorization header was refused (a 401 for the sender).
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unsupportedScheme(String)
        case malformed

        public var description: String {
            switch self {
            case let .unsupportedScheme(s): return "Authorization scheme '\(s)' is not supported: use Bearer or Basic"
            case .malformed: return "the Authorization header is malformed"
            }
        }
    }

    /// `nil` when there is no header; throws when there is one we cannot read.
    public static func parse(authorization: String?) throws(Failure) -> PresentedCredential? {
        guard let header = authorization?.trimmingWhitespace(), !header.isEmpty else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw .malformed }
        let credentials = parts[1].trimmingWhitespace()
        switch parts[0].lowercased() {
        case "bearer":
            guard !credentials.isEmpty else { throw .malformed }
            return .bearer(credentials)
        case "basic":
            guard let data = Data(base64Encoded: credentials),
                  let decoded = String(data: data, encoding: .utf8) else { throw .malformed }
            // user:password; Segment puts the write key in the user name, password empty.
            let user = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !user.isEmpty else { throw .malformed }
            return .basicUser(user)
        default:
            throw .unsupportedScheme(String(parts[0]))
        }
    }
}
