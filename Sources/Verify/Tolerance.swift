/// The pass rule for one element: |actual − expected| ≤ atol + rtol·|expected| (numpy's `isclose` rule, which is
/// asymmetric: the reference's magnitude scales the allowance). `--tolerance T` means atol = rtol = T.
///
/// NaN never passes; matching infinities of the same sign pass.
public struct Tolerance: Sendable, Equatable, Codable {
    public var atol: Double
    public var rtol: Double

    public init(atol: Double, rtol: Double) {
        self.atol = atol
        self.rtol = rtol
    }

    public init(_ both: Double) { self.init(atol: both, rtol: both) }

    @inline(__always)
    public func allows(actual: Double, expected: Double) -> Bool {
        if actual.isNaN || expected.isNaN { return false }
        if actual.isInfinite || expected.isInfinite { return actual == expected }
        return abs(actual - expected) <= atol + rtol * abs(expected)
    }
}
