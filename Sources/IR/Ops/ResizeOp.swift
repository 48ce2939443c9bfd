import Foundation

/// `Resize` (opset ≥ 11): nearest or (n-)linear resampling of every axis whose size changes, as image models carry
/// it (upsampling in FPN/U-Net heads, input resizing inside the graph).
///
/// Inputs X, roi (unused by the modes below), scales (float) or sizes (int64): exactly one of the last two is
/// non-empty. Output size per axis: `sizes[i]`, or ⌊in·scales[i]⌋; the scale of an axis given by `sizes` is out/in.
/// Each output coordinate x maps to an input coordinate x′ by `coordinate_transformation_mode`:
/// `half_pixel` (default) (x + ½)/scale − ½; `pytorch_half_pixel` the same, 0 when out = 1; `align_corners`
/// x·(in − 1)/(out − 1), 0 when out = 1; `asymmetric` x/scale. `nearest` picks round(x′) by `nearest_mode`
/// (`round_prefer_floor` (default), `round_prefer_ceil`, `floor`, `ceil`), clamped to the axis; `linear` clamps x′ to
/// [0, in − 1] and mixes its two neighbours (edge values repeat), axis after axis — separable, so the result is
/// the n-linear one. Cubic, antialiasing, `tf_crop_and_resize`, `axes` and aspect-ratio policies are refused.
package enum ResizeOp: OperatorDefinition {
    static let opType = "Resize"
    static let isEvaluable = true

    /// The attributes of one Resize node, checked.
    package struct Attributes: Sendable {
        package var linear: Bool
        package var transform: String
        package var nearestMode: String

        package init(node: Node, opset: Int) throws {
            func refuse(_ what: String, only: String) -> IRError {
                .invalidNode(node: node.label, message: "\(what) is not supported; only \(only)")
            }
            guard opset >= 11 else { throw refuse("Resize before opset 11", only: "opset 11 and later") }
            let mode = node.string("mode") ?? "nearest"
            guard mode == "nearest" || mode == "linear" else {
                throw refuse("Resize mode '\(mode)'", only: "nearest and linear")
            }
            linear = mode == "linear"
            transform = node.string("coordinate_transformation_mode") ?? "half_pixel"
            guard ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"].contains(transform) else {
                throw refuse(
                    "coordinate_transformation_mode '\(transform)'",
                    only: "half_pixel, pytorch_half_pixel, align_corners and asymmetric")
            }
            nearestMode = node.string("nearest_mode") ?? "round_prefer_floor"
            guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
                throw refuse("nearest_mode '\(nearestMode)'", only: "round_prefer_floor, round_prefer_ceil, floor, ceil")
            }
            if (node.int("antialias") ?? 0) != 0 { throw refuse("Resize with antialias = 1", only: "antialias = 0") }
            if (node.int("exclude_outside") ?? 0) != 0 {
                throw refuse("Resize with exclude_outside = 1", only: "exclude_outside = 0")
            }
            if node.ints("axes") != nil { throw refuse("Resize with an 'axes' attribute", only: "resizing every axis") }
            if let policy = node.string("keep_aspect_ratio_policy"), policy != "stretch" {
                throw refuse("keep_aspect_ratio_policy '\(policy)'", only: "stretch")
            }
        }
    }

    /// Where one output coordinate reads along an axis: (1 − w)·in[i0] + w·in[i1] (nearest: w = 0, i1 = i0).
    package struct Tap: Sendable, Hashable {
        package var i0: Int
        package var i1: Int
        package var w: Double
    }

    /// Output shape and per-axis scale from the scales or sizes input (empty tensors count as absent).
    package static func geometry(node: Node, input shape: [Int], scales: Tensor?, sizes: Tensor?) throws -> (
        shape: [Int], scales: [Double]
    ) {
        func fail(_ m: String) -> IRError { .invalidNode(node: node.label, message: m) }
        let r = shape.count
        let sizes = sizes.flatMap { $0.count == 0 ? nil : $0 }
        let scales = scales.flatMap { $0.count == 0 ? nil : $0 }
        if let sizes {
            guard scales == nil else { throw fail("scales and sizes are both given; give one") }
            let out = sizes.ints
            guard out.count == r, out.allSatisfy({ $0 >= 0 }) else {
                throw fail("sizes \(out) do not fit an input of shape \(shape)")
            }
            return (out, zip(out, shape).map { $1 == 0 ? 1 : Double($0) / Double($1) })
        }
        guard let scales else { throw fail("Resize needs scales or sizes") }
        let s = scales.doubles
        guard s.count == r, s.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw fail("scales \(s) do not fit an input of shape \(shape)")
        }
        let out = zip(shape, s).map { Double($0) * $1 }
        guard out.allSatisfy({ $0 < Double(1 << 40) }) else { throw fail("scales \(s) give an output too large") }
        return (out.map { Int($0.rounded(.down)) }, s)
    }

    /// The taps of every output coordinate along one axis.
    package static func taps(inSize: Int, outSize: Int, scale: Double, attributes a: Attributes) -> [Tap] {
        let last = max(inSize - 1, 0)
        return (0..<outSize).map { x in
            let xf = Double(x)
            let source: Double
            switch a.transform {
            case "align_corners": source = outSize == 1 ? 0 : xf * Double(inSize - 1) / Double(outSize - 1)
            case "asymmetric": source = xf / scale
            case "pytorch_half_pixel": source = outSize > 1 ? (xf + 0.5) / scale - 0.5 : 0
            default: source = (xf + 0.5) / scale - 0.5
            }
            if a.linear {
                let c = min(max(source, 0), Double(last))
                let i0 = Int(c.rounded(.down))
                return Tap(i0: i0, i1: min(i0 + 1, last), w: c - Double(i0))
            }
            let down = source.rounded(.down)
            let tie = source - down == 0.5
            let picked: Double
            switch a.nearestMode {
            case "floor": picked = down
            case "ceil": picked = source.rounded(.up)
            case "round_prefer_ceil": picked = tie ? down + 1 : source.rounded()
            default: picked = tie ? down : source.rounded()
            }
            let i = Int(min(max(picked, 0), Double(last)))
            return Tap(i0: i, i1: i, w: 0)
        }
    }

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "X")
        _ = try Attributes(node: c.node, opset: c.opset)
        if let t = x.dtype, !t.isFloatingPoint { throw c.fail("Resize of \(t) is not supported; only float inputs") }
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        let unknown = facts(x.dtype, Shape(repeating: .unknown, count: s.count))
        let sizes = c.input(3)
        let scales = c.input(2)
        if let e = sizes?.knownInts, !e.isEmpty {
            guard e.count == s.count else { throw c.fail("sizes \(e) do not fit an input of shape \(s.text)") }
            return [facts(x.dtype, Shape(e))]
        }
        guard let dims = s.concrete, let scaleTensor = scales?.constant, sizes == nil || sizes?.knownInts == [] else {
            return [unknown]
        }
        return [facts(x.dtype, Shape(try geometry(node: c.node, input: dims, scales: scaleTensor, sizes: nil).shape))]
    }

    /// The scalar reference: in Double, axis after axis, rounded once to the input's dtype.
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "X")
        let attributes = try Attributes(node: c.node, opset: c.opset)
        guard x.dtype.isFloatingPoint else { throw c.fail("Resize of \(x.dtype) is not supported; only float inputs") }
        let (out, scales) = try geometry(node: c.node, input: x.shape, scales: c.input(2), sizes: c.input(3))
        try MemoryBudget.check(shape: out, elementSize: 8, for: "the output of Resize node '\(c.node.label)'")
        var shape = x.shape
        var values = x.doubleValues
        for axis in shape.indices where out[axis] != shape[axis] || scales[axis] != 1 {
            let taps = taps(inSize: shape[axis], outSize: out[axis], scale: scales[axis], attributes: attributes)
            let outer = shape[..<axis].reduce(1, *)
            let n = shape[axis]
            let inner = shape[(axis + 1)...].reduce(1, *)
            var next = [Double](repeating: 0, count: outer * taps.count * inner)
            if n > 0 {
                for o in 0..<outer {
                    for (j, t) in taps.enumerated() {
                        let a = (o * n + t.i0) * inner
                        let b = (o * n + t.i1) * inner
                        let d = (o * taps.count + j) * inner
                        for i in 0..<inner {
                            next[d + i] = t.w == 0 ? values[a + i] : (1 - t.w) * values[a + i] + t.w * values[b + i]
                        }
                    }
                }
            }
            values = next
            shape[axis] = out[axis]
        }
        return [Tensor.rounding(values, to: x.dtype, shape: shape)]
    }
}
