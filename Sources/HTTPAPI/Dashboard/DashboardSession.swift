import Cryptography
import Essentials
import Foundation

/// The dashboard's login cookie: `<key id>.<expiry seconds>.<HMAC-SHA256 hex>`, signed with the
/// secret the nodes share (`dashboard_session_secret`, migration 0051; `LeadRouterApp` reads it
/// at start), so any node accepts a cookie any node set, also after a restart. The raw API key
/// never leaves the login request; a tampered or expired token fails `verify`. The default
/// (a random secret) is for tests that build a session by hand.
package struct DashboardSession: Sendable {
    static let cookieName = "lr_dashboard"
    let secret: [UInt8]
    let lifetime: TimeInterval

    package init(secret: [UInt8] = Crypto.randomBytes(32), lifetime: TimeInterval = 8 * 3600) {
        self.secret = secret; self.lifetime = lifetime
    }

    func token(keyID: UUID, now: Date) -> String {
        let payload = "\(keyID.uuidString.lowercased()).\(Int(now.timeIntervalSince1970 + lifetime))"
        return payload + "." + Hex.encode(Crypto.hmacSHA256(key: secret, message: Array(payload.utf8)))
    }

    /// The key id a valid, unexpired token names; nil otherwise.
    func verify(_ token: String, now: Date) -> UUID? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int(parts[1]), Double(expiry) > now.timeIntervalSince1970,
              let id = UUID(uuidString: String(parts[0])), let mac = Hex.decode(String(parts[2])) else { return nil }
        let expected = Crypto.hmacSHA256(key: secret, message: Array("\(parts[0]).\(parts[1])".utf8))
        return Crypto.constantTimeEquals(mac, expected) ? id : nil
    }

    /// The `Set-Cookie` value carrying `token` (empty with max-age 0 to log out).
    func setCookie(_ token: String?) -> String {
        let value = token ?? ""
        let age = token == nil ? 0 : Int(lifetime)
        return "\(Self.cookieName)=\(value); Max-Age=\(age); Path=/dashboard; HttpOnly; SameSite=Strict"
    }

    /// The session cookie's value in a `Cookie` header, if any.
    static func cookie(in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let p = pair.trimmingCharacters(in: .whitespaces)
            if p.hasPrefix(cookieName + "=") { return String(p.dropFirst(cookieName.count + 1)) }
        }
        return nil
    }
}
