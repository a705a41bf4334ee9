import Foundation
import Postgres

/// The only place in leadrouter that writes SQL. A `Store` wraps one connection — usually one
/// inside a transaction the caller opened — so that a use case composes several statements into
/// one atomic unit without any of them knowing about transactions.
public struct Store {
    /// The connection the statements run on.
    public let connection: PostgresConnection

    /// Statements on `connection` (inside whatever transaction is open on it).
    public init(_ connection: PostgresConnection) { self.connection = connection }
}

/// A stable 64-bit hash (FNV-1a) of an identity key: the advisory-lock key and the lane shard.
/// Stable across processes (unlike `Hasher`), so every node locks the same number for one key.
public func identityKeyHash(kind: String, value: String) -> Int64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in kind.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    hash = (hash ^ 0x1f) &* 0x100_0000_01b3
    for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Int64(bitPattern: hash)
}
