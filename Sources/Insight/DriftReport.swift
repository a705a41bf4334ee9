import Foundation
import Segmentation

/// `GET /v1/drift`: what changed in the tracking data, each alert with what it affects.
public struct DriftReport: Sendable, Equatable {
    /// One thing that drifted.
    public struct Alert: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case volumeDrop = "volume_drop", volumeSpike = "volume_spike", unmappedEvent = "unmapped_event"
            case keyEventSilent = "key_event_silent", captureDrop = "capture_drop"
        }
        /// Stable for as long as the condition lasts (`kind:subject:window`): webhooks announce each once.
        public var id: String { [kind.rawValue, subject, window ?? ""].joined(separator: ":") }
        public var kind: Kind
        /// The event type, the event name as sent, or the field.
        public var subject: String
        /// `hour` or `day` for volumes and captures.
        public var window: String?
        public var current: Double?
        public var baseline: Double?
        /// (current − baseline) / baseline.
        public var change: Double?
        public var detail: String
        /// Who reads the event type or field (for an unmapped name: its suggested type).
        public var readers: Lineage.Readers
    }

    /// One event type's volume against its baseline.
    public struct Volume: Sendable, Equatable {
        public var eventType: String
        public var lastHour: Int
        public var hourBaseline: Double?
        public var lastDay: Int
        public var dayBaseline: Double?
    }

    /// An event name that maps to no event type.
    public struct Unmapped: Sendable, Equatable {
        public var name: String
        public var count: Int
        public var firstSeen: Date
        public var lastSeen: Date
        /// The nearest known name or type by edit distance, and the type it would map to.
        public var suggestedName: String?
        public var suggestedType: String?
    }

    /// A key event and when it was last received.
    public struct KeyEventStatus: Sendable, Equatable {
        public var eventType: String
        public var silenceSeconds: Double
        public var lastSeen: Date?
        public var silent: Bool
    }

    /// One watched field's capture rate: the last 24 hours, the 7 days before, and each of the
    /// last 7 days (oldest first; nil for a day without messages).
    public struct Capture: Sendable, Equatable {
        public var field: String
        public var lastDay: Double?
        public var baseline: Double?
        public var daily: [Double?]
    }

    public var generatedAt: Date
    /// The last complete UTC hour the volumes end with.
    public var hourEnding: Date
    public var alerts: [Alert] = []
    public var volumes: [Volume] = []
    public var unmapped: [Unmapped] = []
    public var keyEvents: [KeyEventStatus] = []
    public var captures: [Capture] = []
    /// Messages `/v1/batch` rejected, by reason: the last 7 UTC days together.
    public var rejected: [String: Int] = [:]
}
