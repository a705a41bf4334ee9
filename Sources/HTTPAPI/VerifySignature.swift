import Cryptography
import Foundation
import HTTPServer
import LeadStore

/// A key created with a signing secret needs a valid `X-Leadrouter-Signature` (over the body as
/// sent, before gzip inflation) on every ingest route: write keys are public, the secret is what
/// proves the sender. Runs after `Authenticate` and before the body is decoded; a key without a
/// secret passes. Missing, malformed, stale or wrong: 401 with the reason.
package struct VerifySignature: RouterMiddleware {
    /// Allowed difference between the signature's `t` and the server clock (replay guard).
    let toleranceSeconds: Int

    package init(toleranceSeconds: Int) { self.toleranceSeconds = toleranceSeconds }

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        if let secret = try context.authenticatedKey().signingSecret {
            do {
                try SignatureScheme.verify(header: request.headers["X-Leadrouter-Signature"], body: request.body,
                                           secret: Array(secret.utf8), now: Int(Date().timeIntervalSince1970),
                                           toleranceSeconds: toleranceSeconds)
            } catch {
                throw Authenticator.unauthorized(error.description)
            }
        }
        return try next(request, context)
    }
}
