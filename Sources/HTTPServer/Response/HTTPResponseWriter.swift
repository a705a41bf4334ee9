/// Turns a handler's `HTTPResponse` into bytes on the wire. The server, not the handler, owns
/// framing and persistence: it writes `Date`, `Content-Length` and `Connection` itself and drops
/// any a handler set, so a handler can never desynchronise a keep-alive connection.
public enum HTTPResponseWriter {
    /// Interim response sent before reading a body announced with `Expect: 100-continue`.
    public static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends the serialized response to `buffer`: status line, the handler's headers, `Date`,
    /// `Content-Length` (not for 1xx/204/304), `Connection: close` when `!keepAlive`
    /// (`Connection: keep-alive` when an HTTP/1.0 connection stays open), then the body —
    /// except for HEAD, which gets the body's Content-Length but no body bytes. A `bodyFile` is
    /// not copied here: the connection sends it after these bytes (`fileBody`).
    public static func serialize(_ response: HTTPResponse, requestMethod: HTTPMethod, version: HTTPVersion,
                                 keepAlive: Bool, into buffer: inout [UInt8]) {
        let code = response.status.code
        let bodyless = (100..<200).contains(code) || code == 204 || code == 304
        buffer.reserveCapacity(buffer.count + 128 + response.body.count + response.headers.count * 32)
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(code, to: &buffer)
        buffer.append(ByteClass.sp)
        appendSanitized(response.status.reason, to: &buffer)
        buffer.append(contentsOf: "\r\n".utf8)
        for field in response.headers where !isServerOwned(field.name) && isValidName(field.name) {
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(contentsOf: ": ".utf8)
            appendSanitized(field.value, to: &buffer)
            buffer.append(contentsOf: "\r\n".utf8)
        }
        buffer.append(contentsOf: "Date: ".utf8)
        HTTPDate.appendNow(to: &buffer)
        buffer.append(contentsOf: "\r\n".utf8)
        if !bodyless {
            buffer.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.bodyFile?.length ?? response.body.count, to: &buffer)
            buffer.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive {
            buffer.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http10 {
            buffer.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        buffer.append(contentsOf: "\r\n".utf8)
        if !bodyless, requestMethod != .HEAD, response.bodyFile == nil {
            buffer.append(contentsOf: response.body)
        }
    }

    /// The file whose bytes follow the head `serialize` wrote, if the body is one (not for HEAD
    /// or a bodyless status).
    static func fileBody(of response: HTTPResponse, requestMethod: HTTPMethod) -> HTTPBodyFile? {
        let code = response.status.code
        guard requestMethod != .HEAD, !((100..<200).contains(code) || code == 204 || code == 304) else { return nil }
        return response.bodyFile
    }

    /// Fields only the server may write (framing, persistence, Date).
    static func isServerOwned(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: return HTTPHeaders.same(name, "date")
        case 10: return HTTPHeaders.same(name, "connection")
        case 14: return HTTPHeaders.same(name, "content-length")
        case 17: return HTTPHeaders.same(name, "transfer-encoding")
        default: return false
        }
    }

    /// A name that is not a token would corrupt the header block; such fields are dropped.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken)
    }

    /// Copies a value, replacing CR, LF and other controls by spaces (no response splitting).
    static func appendSanitized(_ value: String, to buffer: inout [UInt8]) {
        for b in value.utf8 {
            buffer.append(ByteClass.isFieldValue(b) ? b : ByteClass.sp)
        }
    }

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        guard value > 0 else { buffer.append(UInt8(ascii: "0")); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value, count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            while n > 0 {
                raw[count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[i]) }
        }
    }
}
