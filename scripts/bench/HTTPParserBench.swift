// Parser micro-benchmark: compiled by scripts/bench-http-parser.sh with the parser sources
// (-O -wmo). Usage: http-parser-bench N → parses N copies of each request kind, pipelined in
// batches of 16 per append (as a read from a busy keep-alive socket would deliver them), and
// prints "<kind> <ns per request> <checksum>".
import Foundation

@main
enum HTTPParserBench {
    static func main() {
        let requests: [(String, [UInt8])] = [
            ("get", Array("GET /healthz HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk/4.2.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n".utf8)),
            ("post", Array(("POST /v1/events HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer 0123456789abcdef\r\nContent-Length: 64\r\n\r\n" + String(repeating: "x", count: 64)).utf8)),
        ]
        let n = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1_000_000
        for (kind, request) in requests {
            let batch = Array([[UInt8]](repeating: request, count: 16).joined())
            var parser = HTTPRequestParser()
            var checksum = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<(n / 16) {
                batch.withUnsafeBytes { parser.append($0) }
                while let event = try! parser.next() {
                    switch event {
                    case .head(let head): checksum &+= head.headers.count &+ head.path.utf8.count
                    case .body(let body): checksum &+= body.count
                    case .end: checksum &+= 1
                    }
                }
            }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            print(kind, String(format: "%.1f", Double(elapsed) / Double(n / 16 * 16)), checksum)
        }
    }
}
