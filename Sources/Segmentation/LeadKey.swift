/// The id of the lead a state belongs to, carried so that the pure engine can assign experiment arms
/// (`ExperimentAssignment`) without a new argument on every `evaluate`. It is where the state is
/// kept, not part of its value: two states with equal fields are equal whichever lead holds them
/// (`==` ignores the key), and it is neither encoded nor decoded with the state.
public struct LeadKey: Sendable, Equatable {
    /// Lower-case UUID text; nil for a state no lead row holds (rules test cases, new test states).
    public var text: String?

    public init(_ text: String? = nil) { self.text = text?.lowercased() }

    public static func == (_: LeadKey, _: LeadKey) -> Bool { true }
}
