/// One problem with one field of a request: a JSON Pointer (RFC 6901) into the body — e.g.
/// `/batch/3/userId`, or `""` for the body itself — and what is wrong, for a person. It is the
/// item of a problem document's `errors` array (RFC 9457); features report their validation
/// errors with it, so the API maps them to problems without knowing each feature's errors.
public struct FieldError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value is.
    public var pointer: String
    /// What is wrong with it.
    public var detail: String

    /// For a field holding a text document (a ruleset's YAML): the 1-based line and column of
    /// the problem inside it; nil (left out of the JSON) otherwise.
    public var line: Int?
    public var column: Int?

    /// A field problem at `pointer`.
    public init(pointer: String, detail: String) {
        self.pointer = pointer
        self.detail = detail
    }

    /// A problem at `line`:`column` of the text the field at `pointer` holds.
    public init(pointer: String, detail: String, line: Int, column: Int) {
        self.init(pointer: pointer, detail: detail)
        self.line = line
        self.column = column
    }

    public var description: String { "\(pointer): \(detail)" }
}
