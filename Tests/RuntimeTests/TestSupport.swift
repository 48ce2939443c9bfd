import Foundation
import IR

@testable import Runtime

/// The shared seeded generator, so that failures reproduce.
typealias SeededGenerator = SplitMix64

extension SeededGenerator {
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

/// The worst violation of |actual − expected| ≤ atol + rtol·scale over all elements, as a ratio (≤ 1 passes).
func worstRatio(_ actual: [Float], _ expected: [Double], scale: [Double], atol: Double, rtol: Double) -> Double {
    precondition(actual.count == expected.count)
    var worst = 0.0
    for i in actual.indices {
        let bound = atol + rtol * scale[i]
        let d = abs(Double(actual[i]) - expected[i])
        if !(d <= bound) { worst = max(worst, d.isNaN ? .infinity : d / bound) } else { worst = max(worst, d / bound) }
    }
    return worst
}

/// Copies an array into a fresh runtime buffer.
func buffer(_ values: [Float]) -> FloatBuffer { FloatBuffer(values) }
