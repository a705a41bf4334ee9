private import COpenSSL

/// OpenSSL's thread-local error queue as text. Server TLS, client TLS and the hashes all report
/// failures through it; reading it in one place keeps the wording (and the queue's emptying,
/// which a later call on the thread relies on) the same everywhere.
public enum OpenSSLErrors {
    /// Takes every queued error and joins their reasons (`"error:0A000086:SSL routines::…; …"`),
    /// or says there was none.
    public static func drain() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL detail" : messages.joined(separator: "; ")
    }
}
