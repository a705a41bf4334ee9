import Foundation

/// The Standard Webhooks signature (https://www.standardwebhooks.com), sent next to
/// `X-Leadrouter-Signature` so receivers can verify with an off-the-shelf library instead of
/// hand-written code: `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
///
/// The key comes from the secret as every Standard Webhooks library derives it from a string
/// secret: the optional `whsec_` prefix is dropped and the rest base64-decoded. Our older
/// generated secrets (`whsec_` + 64 hex digits) are valid base64 too, so libraries decode them
/// the same way and they keep working unchanged. A secret whose rest is not base64 (one a
/// client chose, e.g. `whsec_my_shop_secret`) signs with its whole UTF-8 bytes instead; its
/// receivers hand those raw bytes to the library (docs/webhooks.md says how).
public enum StandardWebhookSignature {
    /// A new secret in the standard's format: `whsec_` + base64 of 32 random bytes.
    public static func generateSecret() -> String {
        "whsec_" + Data(Crypto.randomBytes(32)).base64EncodedString()
    }

    /// The HMAC key of `secret` (see the type's comment for the two cases).
    public static func key(forSecret secret: String) -> [UInt8] {
        let rest = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        return strictBase64Decode(rest) ?? Array(secret.utf8)
    }

    /// The `webhook-signature` value: `v1,` and the base64 MAC of `"<id>.<timestamp>.<body>"`.
    public static func sign(id: String, timestamp: Int, body: some Collection<UInt8>, key: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return "v1," + Data(Crypto.hmacSHA256(key: key, message: message)).base64EncodedString()
    }

    /// Padded standard-alphabet base64, nothing else (no spaces, no `-`/`_`, no missing `=`):
    /// the decoded bytes, or nil when `text` is not exactly that or decodes to nothing. Strict
    /// because the JavaScript and Go libraries are: a secret they would refuse to decode must
    /// not be one we decode.
    static func strictBase64Decode(_ text: String) -> [UInt8]? {
        var body = Substring(text)
        var padding = 0
        while body.hasSuffix("="), padding < 2 { body = body.dropLast(); padding += 1 }
        guard !body.isEmpty, body.utf8.allSatisfy(isBase64Digit), (body.utf8.count + padding) % 4 == 0,
              let data = Data(base64Encoded: text), !data.isEmpty else { return nil }
        return Array(data)
    }

    private static func isBase64Digit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"): return true
        default: return false
        }
    }
}
