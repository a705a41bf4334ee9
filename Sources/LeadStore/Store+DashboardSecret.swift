import Cryptography
import Foundation
import Postgres

extension Store {
    /// The dashboard's cookie-signing secret (migration 0051): 32 random bytes become it when none
    /// is stored yet, else the stored one wins. Two statements, not one: under READ COMMITTED the
    /// SELECT takes a new snapshot, so it sees the row a concurrently starting node committed
    /// while our INSERT waited on it.
    package func dashboardSessionSecret(proposed: [UInt8] = Crypto.randomBytes(32)) throws -> [UInt8] {
        try connection.execute("INSERT INTO dashboard_session_secret (id, secret) VALUES (1, \(Data(proposed))) ON CONFLICT (id) DO NOTHING")
        return Array(try connection.query("SELECT secret FROM dashboard_session_secret WHERE id = 1").scalar(Data.self))
    }
}
