extension HTTPRequestParser {
    /// `method SP request-target SP HTTP-version`, single spaces, nothing else (RFC 9112 §3).
    mutating func parseRequestLine(_ line: Range<Int>) throws(HTTPParseError) {
        let parsed: Result<Void, HTTPParseError> = buffer.withUnsafeBufferPointer { bytes in
            var i = line.lowerBound
            while i < line.upperBound, ByteClass.isToken(bytes[i]) { i += 1 }
            let methodEnd = i
            guard methodEnd > line.lowerBound, i < line.upperBound, bytes[i] == ByteClass.sp else {
                return .failure(.bad("malformed method"))
            }
            i += 1
            let targetStart = i
            while i < line.upperBound, ByteClass.isTarget(bytes[i]) { i += 1 }
            let targetEnd = i
            guard targetEnd > targetStart, i < line.upperBound, bytes[i] == ByteClass.sp else {
                return .failure(.bad("malformed request target"))
            }
            i += 1
            let version = UnsafeBufferPointer(rebasing: bytes[i..<line.upperBound])
            switch Self.parseVersion(version) {
            case .failure(let error): return .failure(error)
            case .success(let v): pending.version = v
            }
            pending.method = HTTPMethod(rawValue: String(decoding: bytes[line.lowerBound..<methodEnd], as: UTF8.self))
            if pending.method.rawValue == "CONNECT" {
                return .failure(HTTPParseError(.notImplemented, "CONNECT is not supported"))
            }
            return parseTarget(UnsafeBufferPointer(rebasing: bytes[targetStart..<targetEnd]))
        }
        try parsed.get()
    }

    /// `HTTP/DIGIT.DIGIT`: 1.0 and 1.1 are served, other well-formed versions are 505, the rest 400.
    static func parseVersion(_ v: UnsafeBufferPointer<UInt8>) -> Result<HTTPVersion, HTTPParseError> {
        guard v.count == 8, v[0] == UInt8(ascii: "H"), v[1] == UInt8(ascii: "T"), v[2] == UInt8(ascii: "T"),
              v[3] == UInt8(ascii: "P"), v[4] == ByteClass.slash, ByteClass.isDigit(v[5]),
              v[6] == UInt8(ascii: "."), ByteClass.isDigit(v[7])
        else { return .failure(.bad("malformed HTTP version")) }
        let version = HTTPVersion(major: Int(v[5] - 48), minor: Int(v[7] - 48))
        guard version == .http11 || version == .http10 else {
            return .failure(HTTPParseError(.versionNotSupported, "\(version) is not supported"))
        }
        return .success(version)
    }

    /// origin-form (`/p?q`), absolute-form (`http://host/p?q`, path and query taken from it)
    /// and asterisk-form (`*`, OPTIONS only). authority-form exists only for CONNECT (501).
    private mutating func parseTarget(_ t: UnsafeBufferPointer<UInt8>) -> Result<Void, HTTPParseError> {
        pending.target = String(decoding: t, as: UTF8.self)
        if t[0] == ByteClass.slash {
            splitPathAndQuery(t, from: 0)
            return .success(())
        }
        if t.count == 1, t[0] == UInt8(ascii: "*") {
            guard pending.method == .OPTIONS else { return .failure(.bad("* is a target only for OPTIONS")) }
            pending.path = "*"
            pending.rawQuery = nil
            return .success(())
        }
        var schemeEnd = 0
        while schemeEnd < t.count, t[schemeEnd] != UInt8(ascii: ":") { schemeEnd += 1 }
        let scheme = UnsafeBufferPointer(rebasing: t[0..<schemeEnd])
        guard ByteClass.equalsLowercase(scheme, "http") || ByteClass.equalsLowercase(scheme, "https"),
              t.count >= schemeEnd + 3, t[schemeEnd + 1] == ByteClass.slash, t[schemeEnd + 2] == ByteClass.slash
        else { return .failure(.bad("request target is neither origin-form nor absolute-form")) }
        let authorityStart = schemeEnd + 3
        var i = authorityStart
        while i < t.count, t[i] != ByteClass.slash, t[i] != ByteClass.question {
            guard t[i] != UInt8(ascii: "@") else { return .failure(.bad("userinfo in request target")) }
            i += 1
        }
        guard i > authorityStart else { return .failure(.bad("absolute-form target without a host")) }
        if i == t.count || t[i] == ByteClass.question {
            pending.path = "/"
            pending.rawQuery = i == t.count ? nil : String(decoding: t[(i + 1)...], as: UTF8.self)
        } else {
            splitPathAndQuery(t, from: i)
        }
        return .success(())
    }

    private mutating func splitPathAndQuery(_ t: UnsafeBufferPointer<UInt8>, from start: Int) {
        var q = start
        while q < t.count, t[q] != ByteClass.question { q += 1 }
        pending.path = (start == 0 && q == t.count) ? pending.target : String(decoding: t[start..<q], as: UTF8.self)
        pending.rawQuery = q == t.count ? nil : String(decoding: t[(q + 1)...], as: UTF8.self)
    }

    /// Validates `field-name ":" OWS field-value OWS` and returns the name and trimmed value
    /// ranges. Rejects obs-fold, whitespace before the colon, and controls in the value.
    func parseFieldLine(_ line: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Result<(Range<Int>, Range<Int>), HTTPParseError> {
        let first = bytes[line.lowerBound]
        if first == ByteClass.sp || first == ByteClass.ht { return .failure(.bad("obsolete line folding")) }
        var i = line.lowerBound
        while i < line.upperBound, ByteClass.isToken(bytes[i]) { i += 1 }
        guard i < line.upperBound, bytes[i] == ByteClass.colon else {
            if i < line.upperBound, bytes[i] == ByteClass.sp || bytes[i] == ByteClass.ht {
                return .failure(.bad("whitespace between field name and colon"))
            }
            return .failure(.bad("malformed field name"))
        }
        guard i > line.lowerBound else { return .failure(.bad("empty field name")) }
        let name = line.lowerBound..<i
        var lo = i + 1, hi = line.upperBound
        for j in lo..<hi where !ByteClass.isFieldValue(bytes[j]) {
            return .failure(.bad("control character in field value"))
        }
        while lo < hi, bytes[lo] == ByteClass.sp || bytes[lo] == ByteClass.ht { lo += 1 }
        while hi > lo, bytes[hi - 1] == ByteClass.sp || bytes[hi - 1] == ByteClass.ht { hi -= 1 }
        return .success((name, lo..<hi))
    }

    /// Parses a header field line, notes its meaning, and keeps it (order and duplicates kept).
    mutating func addField(_ line: Range<Int>) throws(HTTPParseError) {
        let result: Result<Void, HTTPParseError> = buffer.withUnsafeBufferPointer { bytes in
            switch parseFieldLine(line, in: bytes) {
            case .failure(let error): return .failure(error)
            case .success(let (name, value)):
                pending.note(name: name, value: value, in: bytes)
                pending.fields.append((String(decoding: bytes[name], as: UTF8.self),
                                       String(decoding: bytes[value], as: UTF8.self)))
                return .success(())
            }
        }
        try result.get()
    }

    /// Judges the complete head: Host, framing (smuggling rules), Expect, persistence.
    mutating func finishHead() throws(HTTPParseError) -> HTTPRequestHead {
        let p = pending
        if p.hostCount > 1 { throw .bad("more than one Host field") }
        if p.version == .http11, p.hostCount == 0 { throw .bad("HTTP/1.1 request without Host") }
        if p.hostInvalid { throw .bad("invalid Host") }
        if case .invalid(let reason) = p.contentLength { throw .bad(reason) }
        let te = p.transferEncoding
        if te.present {
            if p.contentLength != .absent { throw .bad("both Content-Length and Transfer-Encoding") }
            if p.version == .http10 { throw .bad("Transfer-Encoding in an HTTP/1.0 request") }
            if te.malformed || te.elementCount == 0 { throw .bad("malformed Transfer-Encoding") }
            if te.unknownCoding { throw HTTPParseError(.notImplemented, "transfer coding other than chunked") }
            if te.chunkedCount != 1 || !te.lastIsChunked { throw .bad("chunked must be applied exactly once, last") }
            pending.framing = .chunked
        } else if case .value(let n) = p.contentLength {
            pending.framing = .length(n)
        } else {
            pending.framing = .none
        }
        // RFC 9110 §10.1.1: an HTTP/1.0 request's expectations are ignored.
        let expects = p.version == .http11
        if expects, p.unsupportedExpectation { throw HTTPParseError(.expectationFailed, "unsupported expectation") }
        let keepAlive = p.version == .http11 ? !p.connectionClose : (p.connectionKeepAlive && !p.connectionClose)
        return HTTPRequestHead(method: p.method, target: p.target, path: p.path, rawQuery: p.rawQuery,
                               version: p.version, headers: HTTPHeaders(p.fields), keepAlive: keepAlive,
                               expectsContinue: expects && p.expectsContinue)
    }
}
