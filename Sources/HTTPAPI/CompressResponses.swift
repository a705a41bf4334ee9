import HTTPServer

/// Gzips the successful answers of its group when the client asks for it (`Accept-Encoding:
/// gzip`), for large JSON reads: a year of hourly stage metrics is 5.5 MB of JSON and an eighth of
/// that compressed. Every answer it passes says `Vary: Accept-Encoding` (a cache
/// must not hand the gzip body to a client that did not ask for it); bodies under `minimumBytes`
/// (a packet's worth) and answers that already carry a `Content-Encoding` or stream a file go
/// out as they are. Level 1 of libdeflate (`GzipDeflater`): the 5.5 MB year of hourly stage
/// metrics becomes about 640 KB for about 10 ms of CPU, where zlib's level 2 took 19 ms for the
/// same size; higher levels cost 1.5–5× the time for 10–30 % fewer bytes
/// (docs/insight.md#compressed-answers).
package struct CompressResponses<Context: RequestContext>: RouterMiddleware {
    let minimumBytes: Int
    let level: Int32

    package init(minimumBytes: Int = 1400, level: Int32 = 1) { self.minimumBytes = minimumBytes; self.level = level }

    package func handle(_ request: HTTPRequest, context: Context,
                        next: (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse {
        var response = try next(request, context)
        response.headers.add("Vary", "Accept-Encoding")
        guard (200..<300).contains(response.status.code), response.bodyFile == nil, response.body.count >= minimumBytes,
              response.headers["Content-Encoding"] == nil, GzipDeflater.accepted(by: request.headers["Accept-Encoding"]),
              let compressed = GzipDeflater.compress(response.body, level: level)
        else { return response }
        response.body = compressed
        response.headers.add("Content-Encoding", "gzip")
        return response
    }
}
