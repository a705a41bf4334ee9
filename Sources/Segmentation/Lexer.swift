/// A token of the rule language. `offset` counts Unicode scalars from the start of the expression
/// text; the loader maps it to a file line:column.
struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case duration(Int64)   // milliseconds
        case string(String)
        case ident(String)
        case keyword(String)   // and or not in contains where true false null
        case op(String)        // == != < <= > >= + - * / ( ) [ ] , .
        case end
    }
    var kind: Kind
    var offset: Int
    var length: Int
}

/// A lexing or parsing error at a scalar offset of the expression.
struct SyntaxError: Error {
    var offset: Int
    var message: String
}

/// Splits an expression into tokens. Durations (`7d`) are single tokens so `7 d` is an error.
struct Lexer {
    static let keywords: Set<String> = ["and", "or", "not", "in", "contains", "where", "true", "false", "null"]

    static func tokenize(_ text: String) throws(SyntaxError) -> [Token] {
        let s = Array(text.unicodeScalars)
        var i = 0
        var out: [Token] = []
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
        func isIdent(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || isDigit(c) }
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if isDigit(c) {
                while i < s.count, isDigit(s[i]) { i += 1 }
                var isFraction = false
                if i + 1 < s.count, s[i] == ".", isDigit(s[i + 1]) {
                    isFraction = true
                    i += 1
                    while i < s.count, isDigit(s[i]) { i += 1 }
                }
                let numText = String(String.UnicodeScalarView(s[start..<i]))
                if i < s.count, isIdentStart(s[i]) {
                    let unitStart = i
                    while i < s.count, isIdent(s[i]) { i += 1 }
                    let unit = String(String.UnicodeScalarView(s[unitStart..<i]))
                    let word = numText + unit
                    guard !isFraction, let d = Duration.parse(word) else {
                        throw SyntaxError(offset: start, message: "`\(word)` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)")
                    }
                    out.append(Token(kind: .duration(d.milliseconds), offset: start, length: i - start))
                } else {
                    out.append(Token(kind: .number(Double(numText)!), offset: start, length: i - start))
                }
                continue
            }
            if isIdentStart(c) {
                while i < s.count, isIdent(s[i]) { i += 1 }
                let w = String(String.UnicodeScalarView(s[start..<i]))
                out.append(Token(kind: Lexer.keywords.contains(w) ? .keyword(w) : .ident(w), offset: start, length: i - start))
                continue
            }
            if c == "\"" || c == "'" {
                i += 1
                var value = String.UnicodeScalarView()
                var closed = false
                while i < s.count {
                    let d = s[i]
                    if d == c { closed = true; i += 1; break }
                    if d == "\\", i + 1 < s.count {
                        let e = s[i + 1]
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "\\", "\"", "'": value.append(e)
                        default:
                            throw SyntaxError(offset: i, message: "unknown escape `\\\(e)` in string: use \\\\, \\\", \\', \\n or \\t")
                        }
                        i += 2
                        continue
                    }
                    value.append(d)
                    i += 1
                }
                guard closed else { throw SyntaxError(offset: start, message: "string is not closed: add the missing \(c)") }
                out.append(Token(kind: .string(String(value)), offset: start, length: i - start))
                continue
            }
            let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
            if ["==", "!=", "<=", ">="].contains(two) {
                out.append(Token(kind: .op(two), offset: start, length: 2)); i += 2; continue
            }
            if "<>+-*/()[],.".unicodeScalars.contains(c) {
                out.append(Token(kind: .op(String(c)), offset: start, length: 1)); i += 1; continue
            }
            if c == "=" {
                throw SyntaxError(offset: start, message: "`=` is not an operator: use `==` to compare")
            }
            if c == "&" || c == "|" || c == "!" {
                throw SyntaxError(offset: start, message: "`\(c)` is not an operator: use `and`, `or`, `not` or `!=`")
            }
            throw SyntaxError(offset: start, message: "unexpected character `\(c)`")
        }
        out.append(Token(kind: .end, offset: s.count, length: 0))
        return out
    }
}
