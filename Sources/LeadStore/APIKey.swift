import Cryptography
import Essentials
import Foundation

/// What an API key may do. A key with `ingest` is a Segment write key; `write` changes leads
/// (`PATCH /v1/leads/{id}`, a CRM's status updates), which `read` alone does not.
public enum APIScope: String, CaseIterable, Codable, Sendable, Comparable {
    case ingest, read, write, queue, admin

    /// `admin` is the operator's key: it implies every other scope.
    public func isGranted(by scopes: Set<APIScope>) -> Bool {
        scopes.contains(self) || scopes.contains(.admin)
    }

    public static func < (a: APIScope, b: APIScope) -> Bool { a.rawValue < b.rawValue }

    /// Parses a comma-separated list (`ingest,read`); throws naming the unknown scope.
    public static func parseList(_ text: String) throws -> Set<APIScope> {
        var scopes = Set<APIScope>()
        for part in text.split(separator: ",") {
            let name = part.trimmingWhitespace().lowercased()
            if name.isEmpty { continue }
            guard let scope = APIScope(rawValue: name) else {
                throw APIKeyError.unknownScope(name)
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw APIKeyError.noScopes }
        return scopes
    }
}

/// Why a key could not be created or parsed.
public enum APIKeyError: Error, Equatable, CustomStringConvertible {
    case unknownScope(String)
    case noScopes

    public var description: String {
        switch self {
        case let .unknownScope(name):
            return "unknown scope '\(name)': use any of \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))"
        case .noScopes: return "a key needs at least one scope"
        }
    }
}

/// A freshly minted key: the plaintext is shown once and never stored; the database keeps
/// only `hash` (SHA-256) and the short `prefix` that lets an operator recognise a key in lists.
public struct NewAPIKey: Sendable {
    /// `lr_` + 40 lower-case hex characters (160 random bits).
    public let plaintext: String
    public let hash: [UInt8]
    /// The first 11 characters (`lr_` + 8 hex), safe to show and log.
    public let prefix: String

    /// Mints a key from the CSPRNG.
    public static func generate() -> NewAPIKey {
        let plaintext = "lr_" + Hex.encode(Crypto.randomBytes(20))
        return NewAPIKey(plaintext: plaintext, hash: APIKeyHash.of(plaintext), prefix: String(plaintext.prefix(11)))
    }
}

/// The one way a presented key is turned into what is stored and looked up.
public enum APIKeyHash {
    public static func of(_ plaintext: String) -> [UInt8] { Crypto.sha256(Array(plaintext.utf8)) }
}
