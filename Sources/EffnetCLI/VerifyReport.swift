import Effnet
import Formats
import Foundation
import IR
import Verify

/// `verify --json` (the README's contract): passed, atol, rtol, per output max_abs, max_rel, mean_abs, cosine, top1_agree,
/// top5_overlap; on failure first_divergence. `outputs` are the native runtime's (what users run); `checks` has
/// both computations.
struct VerifyReport: Encodable {
    struct Check: Encodable {
        var path: String
        var graph: String
        var passed: Bool
        var outputs: [OutputComparison]

        init(
            path: String, graph: String, actual: [String: Tensor], expected: [String: Tensor],
            graphOutputs: [ValueInfo], tolerance: Tolerance
        ) throws {
            self.path = path
            self.graph = graph
            outputs = try graphOutputs.map { output in
                guard let a = actual[output.name] else {
                    throw ModelUseError.reference(path: path, message: "no value computed for output '\(output.name)'")
                }
                return try Comparison.compare(
                    name: output.name, actual: a, expected: expected[output.name]!, tolerance: tolerance)
            }
            passed = outputs.allSatisfy(\.passed)
        }
    }

    var model: String
    var reference: String?
    var passed: Bool
    var atol: Double
    var rtol: Double
    var outputs: [OutputComparison]
    var checks: [Check]
    var firstDivergence: Divergence?
    var passes: [String]
    /// Why atol/rtol are not the defaults, when effnet chose them (a half-precision model).
    var toleranceReason: String? = nil

    enum CodingKeys: String, CodingKey {
        case model, reference, passed, atol, rtol, outputs, checks, passes
        case firstDivergence = "first_divergence"
        case toleranceReason = "tolerance_reason"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(reference, forKey: .reference)
        try c.encode(passed, forKey: .passed)
        try c.encode(atol, forKey: .atol)
        try c.encode(rtol, forKey: .rtol)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(checks, forKey: .checks)
        try c.encode(passes, forKey: .passes)
        try c.encode(firstDivergence, forKey: .firstDivergence)  // null when passed
        try c.encodeIfPresent(toleranceReason, forKey: .toleranceReason)
    }

    var text: String {
        var lines = [
            "\(model): \(passed ? "PASSED" : "FAILED") (atol \(atol), rtol \(rtol))"
                + (reference.map { " against \($0)" } ?? " against the reference interpreter on random inputs")
        ]
        if let toleranceReason { lines.append("  tolerance: \(toleranceReason)") }
        for check in checks {
            lines.append("  \(check.path) on the \(check.graph) graph: \(check.passed ? "pass" : "FAIL")")
            for o in check.outputs {
                var s =
                    "    \(o.name) \(o.shape): max_abs \(Self.g(o.maxAbs)), max_rel \(Self.g(o.maxRel)), "
                    + "mean_abs \(Self.g(o.meanAbs)), cosine \(String(format: "%.8f", o.cosine))"
                if let t1 = o.top1Agree { s += ", top1 \(Self.g(t1))" }
                if let t5 = o.top5Overlap { s += ", top5 \(Self.g(t5))" }
                if o.mismatches > 0 { s += ", \(o.mismatches)/\(o.count) beyond tolerance (worst at \(o.worstIndex))" }
                lines.append(s)
            }
        }
        if let d = firstDivergence {
            var s = "  first divergence: \(d.stage)"
            if let p = d.pass { s += ", pass \(p)" }
            if let n = d.node { s += ", node \(n)" }
            if let v = d.value, v != d.node { s += " (value \(v))" }
            if let m = d.maxAbs { s += ", max_abs \(Self.g(m))" }
            lines.append(s)
            lines.append("    \(d.detail)")
        }
        return lines.joined(separator: "\n")
    }

    static func g(_ v: Double) -> String { String(format: "%.3g", v) }
}

/// Reads a reference `.npz`: arrays named after the graph's inputs and outputs, or `input` / `output` when the
/// graph has one of each.
enum ReferenceFile {
    static func read(_ path: String, graph: Graph) throws -> (feeds: [String: Tensor], expected: [String: Tensor]) {
        let arrays = Dictionary(
            try NPZ.read(contentsOf: path).map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        func pick(_ name: String, fallback: String, count: Int) throws -> Tensor {
            if let t = arrays[name] { return t }
            if count == 1, let t = arrays[fallback] { return t }
            throw ModelUseError.reference(
                path: path,
                message: "has no array '\(name)'" + (count == 1 ? " or '\(fallback)'" : "")
                    + " (it holds: \(arrays.keys.sorted().joined(separator: ", ")))")
        }
        var feeds = [String: Tensor]()
        for input in graph.inputs {
            let t = try pick(input.name, fallback: "input", count: graph.inputs.count)
            if let dims = input.shape {
                let fits =
                    dims.count == t.rank && zip(dims, t.shape).allSatisfy { d, s in d.value.map { $0 == s } ?? true }
                if !fits {
                    throw ModelUseError.reference(
                        path: path,
                        message: "input '\(input.name)' has shape \(t.shape), the model expects \(dims.text)")
                }
            }
            feeds[input.name] = t.dtype == (input.dtype ?? t.dtype) ? t : t.converted(to: input.dtype!)
        }
        var expected = [String: Tensor]()
        for output in graph.outputs {
            expected[output.name] = try pick(output.name, fallback: "output", count: graph.outputs.count)
        }
        return (feeds, expected)
    }
}
