import Foundation

@testable import Runtime

/// SplitMix64: a deterministic generator so that failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
