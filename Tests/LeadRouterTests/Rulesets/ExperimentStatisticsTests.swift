import XCTest
@testable import LeadStore
@testable import Rulesets
import Segmentation

/// The experiment statistics against values computed independently with SciPy 1.17.1 (Python):
///   Wilson:  scipy.stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
///   z-test:  scipy.stats.chi2_contingency([[x1, n1-x1], [x2, n2-x2]], correction=False) — its
///            chi² is z² of the pooled two-proportion test and its p-value the same two-sided p
///   MDE:     (norm.ppf(0.975) + norm.ppf(0.8)) · √(p(1−p)(1/n1 + 1/n2)), p pooled
///   SRM:     scipy.stats.chisquare(observed, N · shares)
///   Q(a, x): scipy.special.gammaincc(a, x)
final class ExperimentStatisticsTests: XCTestCase {
    func testWilsonInterval() throws {
        for (x, n, low, high) in [(12, 100, 0.0699940643701949, 0.19812099426711421), (0, 50, 0.0, 0.07134759913335872),
                                  (50, 50, 0.9286524008666412, 1.0), (1, 3, 0.06149194472039626, 0.7923403991979523)] {
            let ci = try XCTUnwrap(ExperimentStatistics.wilson(successes: x, n: n))
            XCTAssertEqual(ci.low, low, accuracy: 1e-12, "\(x)/\(n)")
            XCTAssertEqual(ci.high, high, accuracy: 1e-12, "\(x)/\(n)")
        }
        XCTAssertNil(ExperimentStatistics.wilson(successes: 0, n: 0))
    }

    func testTwoProportionTestAndMinimumDetectableEffect() throws {
        for (x1, n1, x2, n2, z, p, mde) in [(60, 400, 30, 300, 1.9557956467948936, 0.05048923190739326, 0.07162264684206993),
                                            (45, 500, 40, 500, 0.5669568338334127, 0.5707435093429098, 0.04941443600159776)] {
            let test = try XCTUnwrap(ExperimentStatistics.twoProportion(x1: x1, n1: n1, x2: x2, n2: n2))
            XCTAssertEqual(test.z, z, accuracy: 1e-12)
            XCTAssertEqual(test.pValue, p, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(ExperimentStatistics.minimumDetectableEffect(x1: x1, n1: n1, x2: x2, n2: n2)), mde, accuracy: 1e-12)
        }
        XCTAssertNil(ExperimentStatistics.twoProportion(x1: 0, n1: 10, x2: 0, n2: 10), "no conversions at all: nothing to test")
        XCTAssertNil(ExperimentStatistics.minimumDetectableEffect(x1: 1, n1: 10, x2: 0, n2: 0))
    }

    func testChiSquaredGoodnessOfFit() throws {
        for (observed, shares, statistic, p) in [([460, 440, 100], [0.45, 0.45, 0.1], 0.4444444444444444, 0.8007374029168081),
                                                 ([520, 380, 100], [0.45, 0.45, 0.1], 21.77777777777778, 1.8664469113520564e-05),
                                                 ([530, 470], [0.5, 0.5], 3.6, 0.05777957112359715),
                                                 ([4500, 4400, 1100], [0.45, 0.45, 0.1], 12.222222222222221, 0.002218084904320256)] {
            let r = try XCTUnwrap(ExperimentStatistics.chiSquared(observed: observed, expectedShares: shares))
            XCTAssertEqual(r.statistic, statistic, accuracy: 1e-9)
            XCTAssertEqual(r.degreesOfFreedom, observed.count - 1)
            XCTAssertEqual(r.pValue, p, accuracy: max(1e-12, p * 1e-9))
        }
        XCTAssertEqual(ExperimentStatistics.upperIncompleteGamma(2.5, 10), 0.0012497305630313773, accuracy: 1e-14)
        XCTAssertEqual(ExperimentStatistics.upperIncompleteGamma(1, 0.3), 0.740818220681718, accuracy: 1e-14)
        XCTAssertNil(ExperimentStatistics.chiSquared(observed: [10], expectedShares: [1]))
    }

    /// The report puts it together: arms in key order then the holdout, each variant against the
    /// holdout, `too_small_to_say` from the MDE, and the sample-ratio alarm.
    func testReportFromCounts() throws {
        let definition = ExperimentDefinition(name: "x", channels: ["email"], segments: ["s"], holdout: 10,
                                              variants: [.init(key: "a", weight: 50), .init(key: "b", weight: 50)])
        func count(_ arm: String, _ leads: Int, _ conversions: Int) -> ExperimentArmCount {
            ExperimentArmCount(experiment: "x", arm: arm, leads: leads, conversions: conversions)
        }
        let fine = ExperimentReport(name: "x", definition: definition, counts: [count("holdout", 100, 2), count("a", 460, 69), count("b", 440, 24)])
        XCTAssertEqual(fine.arms.map(\.arm), ["a", "b", "holdout"])
        XCTAssertEqual(fine.arms.map(\.expectedShare), [0.45, 0.45, 0.1])
        XCTAssertEqual(fine.leads, 1_000)
        let srm = try XCTUnwrap(fine.sampleRatio)
        XCTAssertEqual(srm.pValue, 0.8007374029168081, accuracy: 1e-12)
        XCTAssertFalse(srm.mismatch)
        let a = try XCTUnwrap(fine.arms[0].versusHoldout)
        XCTAssertEqual(a.difference, 0.15 - 0.02, accuracy: 1e-12)
        XCTAssertFalse(a.tooSmallToSay, "13 points observed, MDE about 10.3")
        XCTAssertEqual(try XCTUnwrap(a.minimumDetectableEffect), 0.10285, accuracy: 0.0001)
        let b = try XCTUnwrap(fine.arms[1].versusHoldout)
        XCTAssertTrue(b.tooSmallToSay, "3.5 points observed")
        XCTAssertNil(fine.arms[2].versusHoldout)

        let skewed = ExperimentReport(name: "x", definition: definition, counts: [count("holdout", 100, 5), count("a", 520, 1), count("b", 380, 1)])
        XCTAssertTrue(try XCTUnwrap(skewed.sampleRatio).mismatch)
        // An arm no longer defined is listed without a share and left out of the check.
        let retired = ExperimentReport(name: "x", definition: definition, counts: [count("a", 10, 1), count("c", 7, 0)])
        XCTAssertEqual(retired.arms.map(\.arm), ["a", "b", "holdout", "c"])
        XCTAssertNil(retired.arms[3].expectedShare)
        XCTAssertEqual(retired.sampleRatio?.degreesOfFreedom, 2)
    }
}
