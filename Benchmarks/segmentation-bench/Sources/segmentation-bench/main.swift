import Foundation
import Segmentation

// The segmentation benchmark: one event at a time through the engine (JSON decoding excluded),
// side by side with a naive full-history reference in the same run. See docs/rules-cli.md.
// Usage: segmentation-bench [--digest] RULESET.yaml [leads] [events-per-lead]
// SEGMENTATION_BENCH_ENGINE_ONLY=1 skips the reference evaluators (for profiling the engine);
// SEGMENTATION_BENCH_PART=sample or =generated runs only that ruleset (instruction counts per ruleset).

var arguments = CommandLine.arguments
let digestMode = arguments.count > 1 && arguments[1] == "--digest"
if digestMode { arguments.remove(at: 1) }
let engineOnly = ProcessInfo.processInfo.environment["SEGMENTATION_BENCH_ENGINE_ONLY"] == "1"
let part = ProcessInfo.processInfo.environment["SEGMENTATION_BENCH_PART"] ?? ""
guard arguments.count >= 2 else {
    print("usage: segmentation-bench [--digest] config/segments.yaml [leads] [events-per-lead]")
    exit(2)
}
let leads = arguments.count > 2 ? Int(arguments[2]) ?? 400 : 400
let eventsPerLead = arguments.count > 3 ? Int(arguments[3]) ?? 60 : 60
let sampleText = try String(contentsOfFile: arguments[1], encoding: .utf8)
let sample = try Ruleset.load(yaml: sampleText, fileName: arguments[1]).ruleset
if digestMode {
    print(try Digest.run(sample: sample, leads: leads, eventsPerLead: eventsPerLead))
    exit(0)
}

print("segmentation benchmark: \(leads) leads x \(eventsPerLead) events per ruleset and evaluator")
print("allocation counting: \(MallocCounter.available ? "on (LD_PRELOAD interposer)" : "off (run through scripts/bench-segmentation.sh)")")
print("")

var table = Table()
table.add("ruleset", "evaluator", "evals", "p50 µs", "p99 µs", "cpu p50 µs", "allocs p50", "allocs mean")
var machineRows: [String] = []
var rowRuleset = ""
@MainActor func row(_ ruleset: String, _ evaluator: String, _ samples: Samples) {
    guard !samples.nanoseconds.isEmpty else { return }
    if !ruleset.isEmpty { rowRuleset = ruleset }
    // One tab-separated line per row for scripts/bench-segmentation.sh (medians over repetitions);
    // a row printed under the previous one's ruleset still names it.
    machineRows.append(["ROW", rowRuleset, evaluator, format(samples.p50), format(samples.p99), format(samples.cpuP50),
                        String(samples.allocP50), format(samples.allocMean, 1)].joined(separator: "\t"))
    table.add(ruleset, evaluator, String(samples.nanoseconds.count), format(samples.p50), format(samples.p99), format(samples.cpuP50),
              MallocCounter.available ? String(samples.allocP50) : "n/a",
              MallocCounter.available ? format(samples.allocMean, 1) : "n/a")
}

// 1. The sample ruleset.
let journeys = SampleWorkload.journeys(count: leads, eventsPerLead: eventsPerLead, seed: 42)
let sampleRun = part == "generated" ? SampleBench.Result() : SampleBench.run(ruleset: sample, journeys: journeys, withReference: !engineOnly)
row("sample (\(sample.segments.count) segments)", "engine, signal state", sampleRun.engine)
row("", "reference, full history", sampleRun.reference)

// 2. A generated 20-segment ruleset (random windows, thresholds, filters, hysteresis).
let generatedRun = part == "sample" ? GeneratedBench.Result()
    : try GeneratedBench.run(segments: 20, leads: leads, eventsPerLead: eventsPerLead, seed: 7, withReference: !engineOnly)
row("generated (20 segments)", "engine, signal state", generatedRun.engine)
row("", "reference, full history", generatedRun.reference)

print(table.render())
machineRows.forEach { print($0) }
print("")
print("p50 = median wall time per evaluation, cpu p50 = median thread CPU time (both include ~0.1 µs of timer reads)")
guard part.isEmpty else { exit(0) }  // one ruleset only: the summary below compares both
if !engineOnly {
print("p50 ratio reference/engine: sample \(format(sampleRun.reference.p50 / sampleRun.engine.p50, 1))x, "
    + "generated \(format(generatedRun.reference.p50 / generatedRun.engine.p50, 1))x")
}
let bytes = sampleRun.signalBytes.sorted()
print("signal state per lead, sample ruleset (\(sample.signals.count) signals), after \(eventsPerLead) events: "
    + "p50 \(bytes[bytes.count / 2]) B, max \(bytes.last ?? 0) B; largest at any step \(sampleRun.maxSignalBytes) B; "
    + "whole lead state as JSON p50 \(sampleRun.stateJSONBytesP50) B")
let generatedBytes = generatedRun.signalBytes.sorted()
print("signal state per lead, generated ruleset: p50 \(generatedBytes[generatedBytes.count / 2]) B, max \(generatedBytes.last ?? 0) B")
print("targets: p50 < 10 µs with a 20-segment ruleset (\(generatedRun.engine.p50 < 10 ? "met" : "NOT met")); "
    + "signal state < 2048 B per lead for the sample (\(sampleRun.maxSignalBytes < 2048 ? "met" : "NOT met"))")
