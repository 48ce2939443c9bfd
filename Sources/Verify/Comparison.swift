import IR

/// How one output of the model under test compares with its reference.
///
/// - `maxAbs`, `meanAbs`: over all elements.
/// - `maxRel`: max |a − e| / |e| over elements with |e| ≥ 1e-6 (smaller references are governed by `atol`;
///   including them would let a 1e-12 reference value make any relative error look infinite).
/// - `cosine`: cosine similarity of the flattened tensors (1 when both are all-zero).
/// - `top1Agree`, `top5Overlap`: for rank-2 `[batch, classes]` outputs with at least 5 classes, the fraction
///   of rows whose arg-max agrees, and the mean fraction of shared top-5 indices; nil otherwise.
public struct OutputComparison: Sendable, Codable, Equatable {
    public var name: String
    public var shape: [Int]
    public var count: Int
    public var maxAbs: Double
    public var maxRel: Double
    public var meanAbs: Double
    public var cosine: Double
    public var top1Agree: Double?
    public var top5Overlap: Double?
    /// Elements outside tolerance.
    public var mismatches: Int
    /// Flat index of the element with the largest excess over its allowance (or largest error when all pass).
    public var worstIndex: Int
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case name, shape, count, cosine, mismatches, passed
        case maxAbs = "max_abs"
        case maxRel = "max_rel"
        case meanAbs = "mean_abs"
        case top1Agree = "top1_agree"
        case top5Overlap = "top5_overlap"
        case worstIndex = "worst_index"
    }
}

/// Errors in what is being compared (not numeric differences: those are results).
public enum ComparisonError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(name: String, actual: [Int], expected: [Int])

    public var description: String {
        switch self {
        case .shapeMismatch(let name, let actual, let expected):
            "output '\(name)' has shape \(actual) but the reference has \(expected)"
        }
    }
}

public enum Comparison {
    /// Compares `actual` with `expected` element-wise in Double under `tolerance`.
    public static func compare(
        name: String, actual: Tensor, expected: Tensor, tolerance: Tolerance
    ) throws -> OutputComparison {
        // A reference saved without a batch dimension or with extra unit dims still compares element-wise.
        guard
            actual.shape == expected.shape
                || (actual.count == expected.count
                    && actual.shape.filter { $0 != 1 } == expected.shape.filter { $0 != 1 })
        else {
            throw ComparisonError.shapeMismatch(name: name, actual: actual.shape, expected: expected.shape)
        }
        let a = actual.doubles
        let e = expected.doubles
        var maxAbs = 0.0
        var maxRel = 0.0
        var sumAbs = 0.0
        var dot = 0.0
        var normA = 0.0
        var normE = 0.0
        var mismatches = 0
        var worstIndex = 0
        var worstExcess = -Double.infinity
        for i in 0..<a.count {
            let diff = abs(a[i] - e[i])
            let d = diff.isNaN ? Double.infinity : diff
            if d > maxAbs { maxAbs = d }
            sumAbs += d
            if abs(e[i]) >= 1e-6 { maxRel = max(maxRel, d / abs(e[i])) }
            dot += a[i] * e[i]
            normA += a[i] * a[i]
            normE += e[i] * e[i]
            let ok = tolerance.allows(actual: a[i], expected: e[i])
            if !ok { mismatches += 1 }
            let excess =
                ok ? d - (tolerance.atol + tolerance.rtol * abs(e[i])) : (d.isFinite ? d : .greatestFiniteMagnitude)
            if excess > worstExcess || (!ok && worstExcess < 0) {
                worstExcess = excess
                worstIndex = i
            }
        }
        let cosine: Double =
            normA == 0 && normE == 0
            ? 1 : (normA == 0 || normE == 0 ? 0 : dot / (normA.squareRoot() * normE.squareRoot()))
        var top1: Double? = nil
        var top5: Double? = nil
        if expected.shape.count == 2, expected.shape[1] >= 5, actual.count == expected.count {
            let rows = expected.shape[0]
            let classes = expected.shape[1]
            var agree = 0
            var shared = 0
            for r in 0..<rows {
                let ra = Array(a[(r * classes)..<((r + 1) * classes)])
                let re = Array(e[(r * classes)..<((r + 1) * classes)])
                let ta = topIndices(ra, k: 5)
                let te = topIndices(re, k: 5)
                if ta[0] == te[0] { agree += 1 }
                shared += Set(ta).intersection(te).count
            }
            top1 = rows == 0 ? 1 : Double(agree) / Double(rows)
            top5 = rows == 0 ? 1 : Double(shared) / Double(rows * 5)
        }
        return OutputComparison(
            name: name, shape: actual.shape, count: a.count, maxAbs: maxAbs, maxRel: maxRel,
            meanAbs: a.isEmpty ? 0 : sumAbs / Double(a.count), cosine: cosine, top1Agree: top1, top5Overlap: top5,
            mismatches: mismatches, worstIndex: worstIndex, passed: mismatches == 0)
    }

    /// Indices of the `k` largest values, largest first; ties keep the lower index first.
    public static func topIndices(_ values: [Double], k: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
    }
}
