import Hummingbird

// Usage: HummingbirdHello <port>. Serves GET /healthz with a small JSON body, like leadrouter's.
let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8081 : 8081
let body = #"{"status":"ok","version":"0.1.0"}"#

let router = Router()
router.get("/healthz") { _, _ -> Response in
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
