import IR
import Testing

@testable import Verify

@Suite struct ComparisonTests {
    @Test func toleranceFollowsIsCloseRule() {
        let t = Tolerance(atol: 1e-4, rtol: 1e-3)
        #expect(t.allows(actual: 1.00105, expected: 1.0))  // 0.00105 ≤ 1e-4 + 1e-3
        #expect(!t.allows(actual: 1.0012, expected: 1.0))
        #expect(t.allows(actual: 0.0001, expected: 0))
        #expect(!t.allows(actual: .nan, expected: .nan))
        #expect(t.allows(actual: .infinity, expected: .infinity))
    }

    @Test func statisticsOfKnownDifference() throws {
        let expected = Tensor(shape: [1, 6], floats: [1, 2, 3, 4, 5, 6])
        let actual = Tensor(shape: [1, 6], floats: [1, 2, 3, 4, 5.5, 6])
        let c = try Comparison.compare(name: "y", actual: actual, expected: expected, tolerance: Tolerance(1e-4))
        #expect(!c.passed)
        #expect(c.mismatches == 1)
        #expect(c.worstIndex == 4)
        #expect(abs(c.maxAbs - 0.5) < 1e-12)
        #expect(abs(c.maxRel - 0.1) < 1e-12)
        #expect(abs(c.meanAbs - 0.5 / 6) < 1e-12)
        #expect(c.top1Agree == 1)
        #expect(c.top5Overlap == 1)
        #expect(c.cosine < 1 && c.cosine > 0.99)
        let same = try Comparison.compare(name: "y", actual: expected, expected: expected, tolerance: Tolerance(0))
        #expect(same.passed && same.maxAbs == 0 && same.cosine == 1)
    }

    @Test func topKDisagreement() throws {
        let expected = Tensor(shape: [2, 6], floats: [0, 1, 2, 3, 4, 9, 9, 4, 3, 2, 1, 0])
        let actual = Tensor(shape: [2, 6], floats: [0, 1, 2, 3, 9, 4, 9, 4, 3, 2, 1, 0])
        let c = try Comparison.compare(name: "y", actual: actual, expected: expected, tolerance: Tolerance(1e-4))
        #expect(c.top1Agree == 0.5)
        #expect(c.top5Overlap == 1)
    }

    @Test func shapeMismatchIsAnError() {
        #expect(throws: ComparisonError.self) {
            try Comparison.compare(
                name: "y", actual: Tensor(shape: [2, 3], floats: [0, 0, 0, 0, 0, 0]),
                expected: Tensor(shape: [3, 2], floats: [0, 0, 0, 0, 0, 0]), tolerance: Tolerance(1e-4))
        }
    }
}
