import Segmentation

/// A touch as stored in `source_first`/`source_last`.
struct StoredTouch: Decodable {
    var channel: String
    var at: String
    var touch: LeadState.Touch? { Timestamp.parse(at).map { LeadState.Touch(channel: channel, at: $0) } }
}
