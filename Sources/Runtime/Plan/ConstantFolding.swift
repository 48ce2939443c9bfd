import KernelCore
import Foundation
import IR

/// Plan-time evaluation of nodes whose inputs are all constants once the input shapes are fixed: the Shape →
/// Gather → Cast → arithmetic → Concat → Pad chains that timm's `tf_` exports compute SAME padding with, and
/// constant reshapes. Values are carried as doubles (exact for the small integers involved) and rebuilt in the
/// node's output dtype. The optimizer normally folds these before the runtime sees them; this keeps unoptimized
/// graphs runnable.
enum ConstantFolding {
    static let foldable: Set<String> = [
        "Shape", "Gather", "Cast", "Ceil", "Floor", "Add", "Sub", "Mul", "Div", "Unsqueeze", "Squeeze", "Concat",
        "ConstantOfShape", "Reshape", "Slice", "Identity", "Clip", "Sqrt", "Neg", "Max", "Min", "Range", "Equal",
        "Where",
    ]

    /// The node's outputs, or nil when it cannot be folded (some input not constant, or an unknown op).
    /// `constant` gives a constant input's value, nil for values computed at run time.
    static func fold(
        _ node: Node, constant: (String) throws -> Tensor?, shapeOf: (String) -> [Int]?
    ) throws -> [Tensor]? {
        guard foldable.contains(node.opType), node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
        if node.opType == "Shape" {
            guard let s = shapeOf(node.inputs[0]) else { return nil }
            var start = node.int("start") ?? 0
            var end = node.int("end") ?? s.count
            if start < 0 { start += s.count }
            if end < 0 { end += s.count }
            let dims = Array(s[max(0, start)..<min(s.count, max(start, end))])
            return [Tensor(shape: [dims.count], int64s: dims.map(Int64.init))]
        }
        var inputs = [Tensor?]()
        for name in node.inputs {
            if name.isEmpty {
                inputs.append(nil)
                continue
            }
            guard let t = try constant(name) else { return nil }
            inputs.append(t)
        }
        guard let x = inputs.first ?? nil else { return nil }
        func bad(_ why: String) -> RuntimeError {
            RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "cannot evaluate at plan time: \(why)")
        }
        func reshaped(_ t: Tensor, _ shape: [Int]) throws -> [Tensor] {
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == t.count else {
                throw bad("\(t.shape) cannot become \(shape)")
            }
            return [t.reshaped(shape)]
        }
        func out(_ dtype: DType, _ shape: [Int], _ v: [Double]) -> [Tensor] {
            [Tensor(dtype: dtype, shape: shape, values: v)]
        }
        func ints(_ i: Int) -> [Int]? { i < inputs.count ? inputs[i]?.ints : nil }
        func axes(_ rank: Int) -> [Int] { (node.ints("axes") ?? ints(1) ?? []).map { $0 < 0 ? $0 + rank : $0 } }
        switch node.opType {
        case "Identity": return [x]
        case "Cast":
            guard let to = node.int("to"), let dtype = DType(onnxCode: to) else { return nil }
            return [x.converted(to: dtype)]
        case "Ceil", "Floor", "Sqrt", "Neg":
            let f: (Double) -> Double =
                node.opType == "Ceil"
                ? { $0.rounded(.up) }
                : node.opType == "Floor" ? { $0.rounded(.down) } : node.opType == "Sqrt" ? { $0.squareRoot() } : { -$0 }
            return out(x.dtype, x.shape, x.doubles.map(f))
        case "Add", "Sub", "Mul", "Div", "Max", "Min", "Equal":
            guard inputs.count > 1, let y = inputs[1] else { return nil }
            guard compatible(x.shape, y.shape) else { throw bad("shapes \(x.shape) and \(y.shape) do not broadcast") }
            let integer = x.dtype.isInteger
            let f: (Double, Double) -> Double
            switch node.opType {
            case "Add": f = (+)
            case "Sub": f = (-)
            case "Mul": f = (*)
            case "Div": f = { integer ? ($0 / $1).rounded(.towardZero) : $0 / $1 }
            case "Max": f = { max($0, $1) }
            case "Min": f = { min($0, $1) }
            default: f = { $0 == $1 ? 1 : 0 }
            }
            let (shape, v) = broadcast(x, y, f)
            return out(node.opType == "Equal" ? .bool : x.dtype, shape, v)
        case "Clip":
            let lo =
                inputs.count > 1
                ? inputs[1]?.doubles.first ?? -.infinity : Double(node.float("min") ?? -.greatestFiniteMagnitude)
            let hi =
                inputs.count > 2
                ? inputs[2]?.doubles.first ?? .infinity : Double(node.float("max") ?? .greatestFiniteMagnitude)
            return out(x.dtype, x.shape, x.doubles.map { min(max($0, lo), hi) })
        case "Gather":
            guard inputs.count > 1, let idxT = inputs[1] else { return nil }
            var axis = node.int("axis") ?? 0
            if axis < 0 { axis += x.rank }
            guard axis >= 0 && axis < x.rank else { throw bad("axis \(axis) of \(x.shape)") }
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            let n = x.shape[axis]
            let idx = idxT.ints.map { $0 < 0 ? $0 + n : $0 }
            guard idx.allSatisfy({ $0 >= 0 && $0 < n }) else { throw bad("indices \(idxT.ints) out of range for \(n)") }
            let v = x.doubles
            var r = [Double]()
            for o in 0..<outer { for i in idx { for j in 0..<inner { r.append(v[(o * n + i) * inner + j]) } } }
            return out(x.dtype, Array(x.shape[..<axis]) + idxT.shape + Array(x.shape[(axis + 1)...]), r)
        case "Unsqueeze":
            let raw = node.ints("axes") ?? ints(1) ?? []
            let rank = x.rank + raw.count
            let add = Set(axes(rank))
            guard add.count == raw.count, add.allSatisfy({ $0 >= 0 && $0 < rank }) else {
                throw bad("axes \(raw) for \(x.shape)")
            }
            var it = x.shape.makeIterator()
            return try reshaped(x, (0..<rank).map { add.contains($0) ? 1 : it.next() ?? 1 })
        case "Squeeze":
            let drop = Set(
                node.ints("axes") == nil && inputs.count < 2
                    ? x.shape.indices.filter { x.shape[$0] == 1 } : axes(x.rank))
            return try reshaped(x, x.shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
        case "Concat":
            let parts = inputs.compactMap { $0 }
            var axis = node.int("axis") ?? 0
            if axis < 0 { axis += x.rank }
            guard axis >= 0 && axis < x.rank,
                parts.allSatisfy({ p in
                    p.rank == x.rank && p.shape.indices.allSatisfy { $0 == axis || p.shape[$0] == x.shape[$0] }
                })
            else { throw bad("inputs \(parts.map(\.shape)) along axis \(axis)") }
            let outer = x.shape[..<axis].reduce(1, *)
            var r = [Double]()
            for o in 0..<outer {
                for p in parts {
                    let chunk = p.shape[axis...].reduce(1, *)
                    r += p.doubles[(o * chunk)..<((o + 1) * chunk)]
                }
            }
            var shape = x.shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            return out(x.dtype, shape, r)
        case "ConstantOfShape":
            let shape = x.ints
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) <= 1 << 26 else { throw bad("shape \(shape)") }
            let value = node.tensor("value") ?? Tensor(shape: [1], floats: [0])
            return out(value.dtype, shape, [Double](repeating: value.doubles.first ?? 0, count: shape.reduce(1, *)))
        case "Reshape":
            guard let spec = ints(1) else { return nil }
            var s = spec.enumerated().map { i, d in d == 0 && i < x.rank ? x.shape[i] : d }
            if let free = s.firstIndex(of: -1) { s[free] = x.count / max(1, s.filter { $0 != -1 }.reduce(1, *)) }
            return try reshaped(x, s)
        case "Slice":
            guard let starts = ints(1) ?? node.ints("starts"), let ends = ints(2) ?? node.ints("ends") else {
                return nil
            }
            let ax = (ints(3) ?? node.ints("axes") ?? Array(0..<starts.count)).map { $0 < 0 ? $0 + x.rank : $0 }
            let steps = ints(4) ?? [Int](repeating: 1, count: starts.count)
            guard ends.count == starts.count, ax.count == starts.count, steps.count == starts.count,
                ax.allSatisfy({ $0 >= 0 && $0 < x.rank }), !steps.contains(0)
            else { throw bad("starts \(starts), ends \(ends), axes \(ax), steps \(steps) for \(x.shape)") }
            var ranges = x.shape.map { (0, $0, 1) }
            for (i, a) in ax.enumerated() {
                let n = x.shape[a]
                let st = steps[i]
                var s = starts[i] < 0 ? starts[i] + n : starts[i]
                var e = ends[i] < 0 ? ends[i] + n : ends[i]
                s = st > 0 ? min(max(s, 0), n) : min(max(s, -1), n - 1)
                e = st > 0 ? min(max(e, 0), n) : min(max(e, -1), n - 1)
                ranges[a] = (s, e, st)
            }
            let idx = ranges.map { r in Array(stride(from: r.0, to: r.1, by: r.2)) }
            let v = x.doubles
            var r = [Double]()
            func walk(_ d: Int, _ offset: Int) {
                if d == x.rank {
                    r.append(v[offset])
                    return
                }
                let st = x.shape[(d + 1)...].reduce(1, *)
                for i in idx[d] { walk(d + 1, offset + i * st) }
            }
            walk(0, 0)
            return out(x.dtype, idx.map(\.count), r)
        case "Range":
            guard inputs.count > 2, let limit = inputs[1]?.doubles.first, let delta = inputs[2]?.doubles.first,
                let start = x.doubles.first
            else { return nil }
            guard delta != 0, abs((limit - start) / delta) <= Double(1 << 26) else {
                throw bad("range \(start)..<\(limit) by \(delta)")
            }
            let v = Array(stride(from: start, to: limit, by: delta))
            return out(x.dtype, [v.count], v)
        case "Where":
            guard inputs.count > 2, let a = inputs[1], let b = inputs[2] else { return nil }
            guard compatible(x.shape, a.shape), compatible(x.shape, b.shape), compatible(a.shape, b.shape) else {
                throw bad("shapes \(x.shape), \(a.shape), \(b.shape) do not broadcast")
            }
            let (s1, picked) = broadcast(x, a) { $0 != 0 ? $1 : .nan }
            let (shape, v) = broadcast(Tensor(shape: s1, doubles: picked), b) { $0.isNaN ? $1 : $0 }
            return out(a.dtype, shape, v)
        default: return nil
        }
    }

    static func compatible(_ a: [Int], _ b: [Int]) -> Bool {
        let rank = max(a.count, b.count)
        let ap = [Int](repeating: 1, count: rank - a.count) + a
        let bp = [Int](repeating: 1, count: rank - b.count) + b
        return zip(ap, bp).allSatisfy { $0 == $1 || $0 == 1 || $1 == 1 }
    }

    static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Double, Double) -> Double) -> ([Int], [Double]) {
        let rank = max(a.rank, b.rank)
        let ap = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let bp = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(ap, bp).map { max($0, $1) }
        let av = a.doubles
        let bv = b.doubles
        let count = shape.reduce(1, *)
        var r = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var rem = i
            var ia = 0
            var ib = 0
            var sa = 1
            var sb = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let c = rem % shape[d]
                rem /= shape[d]
                if ap[d] != 1 { ia += c * sa }
                if bp[d] != 1 { ib += c * sb }
                sa *= ap[d]
                sb *= bp[d]
            }
            r[i] = f(av[ia], bv[ib])
        }
        return (shape, r)
    }
}
