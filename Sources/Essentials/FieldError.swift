/// One problem with one field of a request: a JSON Pointer (RFC 6901) into the body — e.g.
/// `/batch/3/userId`, or `""` for the body itself — and what is wrong, for a person. It is the
/// item of a problem document's `errors` array (RFC 9457); features report their validation
/// errors with it, so the API maps them to problems without knowing each feature's errors.
public struct FieldError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value is.
    public var pointer: String
    /// What is wrong with it.
    public var detail: String

    /// A field problem at `pointer`.
    public init(pointer: String, detail: String) {
        self.pointer = pointer
        self.detail = detail
    }

    public var description: String { "\(pointer): \(detail)" }
}
