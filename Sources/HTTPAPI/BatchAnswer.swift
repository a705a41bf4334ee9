import Foundation
import Ingest

/// The answer to a `/v1/batch` that dropped messages:
/// `{"success": true, "rejected": [{"index": 2, "messageId": "…", "errors": [{"pointer": "/batch/2/userId", "detail": "…"}]}]}`
/// (`messageId` only when the message had one). Without rejections the answer stays `{"success": true}`.
struct BatchAnswer: Encodable {
    struct Rejected: Encodable {
        var index: Int
        var messageId: String?
        var errors: [Error]
    }
    struct Error: Encodable {
        var pointer: String
        var detail: String
    }

    var success = true
    var rejected: [Rejected]

    init(rejected: [RejectedMessage]) {
        self.rejected = rejected.map { message in
            Rejected(index: message.index, messageId: message.messageId,
                     errors: message.errors.map { Error(pointer: $0.pointer, detail: $0.detail) })
        }
    }
}
