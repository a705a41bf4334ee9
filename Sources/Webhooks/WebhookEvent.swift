import Cryptography
import Foundation
import Segmentation

/// The request a delivery sends: body `{"id","type","created_at","data"}` and the headers that
/// identify and sign it. The body is assembled around the stored payload bytes, so `data` is
/// exactly what the outbox row holds.
public struct WebhookEvent: Sendable {
    /// `evt_<outbox id>`: the same for every attempt, retry and replay — receivers dedupe on it.
    public let id: String
    public let body: [UInt8]

    /// The event of outbox row `outboxId`; `payload` is its JSON text, used as `data` verbatim.
    public init(outboxId: Int64, topic: String, createdAt: Date, payload: [UInt8]) {
        id = "evt_\(outboxId)"
        var body = Array(#"{"id":"\#(id)","type":"\#(topic)","created_at":"\#(Timestamp(createdAt).description)","data":"#.utf8)
        body += payload
        body.append(UInt8(ascii: "}"))
        self.body = body
    }

    /// Headers for one attempt signed at `timestamp` (unix seconds) with `secret`, twice: our
    /// `X-Leadrouter-Signature` (key: the secret's UTF-8 bytes), kept for existing receivers, and
    /// the Standard Webhooks `webhook-id`/`webhook-timestamp`/`webhook-signature` (key:
    /// `StandardWebhookSignature.key(forSecret:)`), which stock libraries verify.
    public func headers(secret: String, timestamp: Int, attempt: Int) -> [(String, String)] {
        [("Content-Type", "application/json"),
         ("X-Leadrouter-Event-Id", id),
         ("X-Leadrouter-Delivery-Attempt", String(attempt)),
         ("X-Leadrouter-Signature", SignatureScheme.sign(body: body, secret: Array(secret.utf8), timestamp: timestamp)),
         ("webhook-id", id),
         ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", StandardWebhookSignature.sign(id: id, timestamp: timestamp, body: body,
                                                             key: StandardWebhookSignature.key(forSecret: secret)))]
    }
}
