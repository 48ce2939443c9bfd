import KernelCore
import Foundation
import IR

/// Pointwise activations, broadcast arithmetic and unfolded BatchNormalization. Elementwise ops keep whatever
/// layout their input has; ops that care about axes other than channels (reshapes, Gemm, Softmax) read C order,
/// and the builder converts at that edge.
extension PlanBuilder {
    /// Any existing version of `name`, preferring `preferred`.
    func anyValue(_ name: String, preferring preferred: Layout = .nhwc, node: Node) throws -> Int {
        if let versions = current[name], let id = versions[preferred] ?? versions.values.first { return id }
        return try value(name, .nchw, node: node)
    }

    func planUnary(_ node: Node) throws {
        let input = try anyValue(node.inputs[0], node: node)
        let v = values[input]
        let output = newValue(node.outputs[0], shape: v.shape, layout: v.layout)
        define(node.outputs[0], output)
        let count = v.count
        let op: (SIMD16<Float>) -> SIMD16<Float>
        let simple: [String: KernelActivation] = [
            "Identity": .none, "Dropout": .none, "Relu": .relu, "Sigmoid": .sigmoid, "Silu": .silu,
            "HardSwish": .hardswish,
        ]
        if let act = simple[node.opType] {
            // Copy, then the specialised in-place loop (a closure per vector would not be inlined).
            addStep(node.label, reads: [input], writes: [output]) { b in
                let src = b.pointer(input)
                let dst = b.pointer(output)
                return { pool in
                    pool.parallelFor((count + 4095) / 4096) { range, _ in
                        let start = range.lowerBound * 4096
                        let end = min(count, range.upperBound * 4096)
                        (dst + start).update(from: src + start, count: end - start)
                        act.apply(dst + start, count: end - start)
                    }
                }
            }
            return
        }
        switch node.opType {
        case "HardSigmoid":
            let alpha = node.float("alpha") ?? 0.2
            let beta = node.float("beta") ?? 0.5
            op = { pointwiseMin(pointwiseMax($0 * alpha + beta, SIMD16(repeating: 0)), SIMD16(repeating: 1)) }
        case "Clip":
            var lo = node.float("min") ?? -Float.greatestFiniteMagnitude
            var hi = node.float("max") ?? Float.greatestFiniteMagnitude
            if let name = node.input(1) { lo = try constant(name, node: node, reason: "Clip min").floats.first ?? lo }
            if let name = node.input(2) { hi = try constant(name, node: node, reason: "Clip max").floats.first ?? hi }
            op = { pointwiseMin(pointwiseMax($0, SIMD16(repeating: lo)), SIMD16(repeating: hi)) }
        default:
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "not a unary op")
        }
        addStep(node.label, reads: [input], writes: [output]) { b in
            let src = b.pointer(input)
            let dst = b.pointer(output)
            return { pool in
                let chunks = (count + 4095) / 4096
                pool.parallelFor(chunks) { range, _ in
                    let start = range.lowerBound * 4096
                    let end = min(count, range.upperBound * 4096)
                    var i = start
                    while i + 16 <= end {
                        storeVector(op(loadVector(src + i)), dst + i)
                        i += 16
                    }
                    if i < end { storePartial(op(loadPartial(src + i, end - i)), dst + i, end - i) }
                }
            }
        }
    }

    /// Add / Sub / Mul / Div with NumPy broadcasting. Fast paths: equal shapes (any layout), and a full 4-D
    /// operand against a per-channel or per-(image, channel) operand (SE scaling, bias adds). Everything else runs
    /// a scalar broadcast in C order.
    func planBinary(_ node: Node) throws {
        let aName = node.inputs[0]
        let bName = node.inputs[1]
        let aShape = try shape(of: aName, node: node)
        let bShape = try shape(of: bName, node: node)
        let rank = max(aShape.count, bShape.count)
        let ap = [Int](repeating: 1, count: rank - aShape.count) + aShape
        let bp = [Int](repeating: 1, count: rank - bShape.count) + bShape
        var outShape = [Int]()
        for i in 0..<rank {
            guard ap[i] == bp[i] || ap[i] == 1 || bp[i] == 1 else {
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType, reason: "shapes \(aShape) and \(bShape) do not broadcast")
            }
            outShape.append(max(ap[i], bp[i]))
        }
        let fn: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>
        switch node.opType {
        case "Add": fn = { $0 + $1 }
        case "Sub": fn = { $0 - $1 }
        case "Mul": fn = { $0 * $1 }
        default: fn = { $0 / $1 }
        }
        let count = outShape.reduce(1, *)
        // Which operand is "full" (has the output's shape) and the other's role.
        let full4 = outShape.count == 4
        func perChannel(_ s: [Int]) -> Bool {
            s.count == 4 && s[2] == 1 && s[3] == 1 && (s[1] == outShape[1] || s[1] == 1)
        }
        if ap == bp {
            let a = try anyValue(aName, node: node)
            let layout = values[a].layout
            let b = try value(bName, layout, node: node)
            let out = newValue(node.outputs[0], shape: outShape, layout: layout)
            define(node.outputs[0], out)
            addStep(node.label, reads: [a, b], writes: [out]) { bind in
                let x = bind.pointer(a)
                let y = bind.pointer(b)
                let z = bind.pointer(out)
                return { pool in
                    pool.parallelFor((count + 4095) / 4096) { range, _ in
                        let start = range.lowerBound * 4096
                        let end = min(count, range.upperBound * 4096)
                        var i = start
                        while i + 16 <= end {
                            storeVector(fn(loadVector(x + i), loadVector(y + i)), z + i)
                            i += 16
                        }
                        while i < end {
                            z[i] = fn(SIMD16(repeating: x[i]), SIMD16(repeating: y[i]))[0]
                            i += 1
                        }
                    }
                }
            }
            return
        }
        if full4 && (ap == outShape || bp == outShape) && perChannel(ap == outShape ? bp : ap) {
            let fullIsA = ap == outShape
            let small = fullIsA ? bp : ap
            let fullId = try anyValue(fullIsA ? aName : bName, node: node)
            let layout = values[fullId].layout
            let smallId = try value(fullIsA ? bName : aName, .nchw, node: node)
            let out = newValue(node.outputs[0], shape: outShape, layout: layout)
            define(node.outputs[0], out)
            let (n, c, hw) = (outShape[0], outShape[1], outShape[2] * outShape[3])
            let perImage = small[0] != 1
            let perCh = small[1] != 1
            addStep(node.label, reads: [fullId, smallId], writes: [out]) { bind in
                let x = bind.pointer(fullId)
                let s = bind.pointer(smallId)
                let z = bind.pointer(out)
                return { pool in
                    pool.parallelFor(n * (layout == .nhwc ? hw : c)) { range, _ in
                        for r in range {
                            // nhwc: r = image·hw + pixel, a row of c channels; plain: r = image·c + channel, a plane.
                            if layout == .nhwc {
                                let img = r / hw
                                let row = r * c
                                for ch in 0..<c {
                                    let sv = s[(perImage ? img * (perCh ? c : 1) : 0) + (perCh ? ch : 0)]
                                    let xv = x[row + ch]
                                    z[row + ch] =
                                        fullIsA
                                        ? fn(SIMD16(repeating: xv), SIMD16(repeating: sv))[0]
                                        : fn(SIMD16(repeating: sv), SIMD16(repeating: xv))[0]
                                }
                            } else {
                                let img = r / c
                                let ch = r % c
                                let sv = SIMD16<Float>(
                                    repeating: s[(perImage ? img * (perCh ? c : 1) : 0) + (perCh ? ch : 0)])
                                let base = r * hw
                                var i = 0
                                while i + 16 <= hw {
                                    let xv = loadVector(x + base + i)
                                    storeVector(fullIsA ? fn(xv, sv) : fn(sv, xv), z + base + i)
                                    i += 16
                                }
                                while i < hw {
                                    let xv = SIMD16<Float>(repeating: x[base + i])
                                    z[base + i] = (fullIsA ? fn(xv, sv) : fn(sv, xv))[0]
                                    i += 1
                                }
                            }
                        }
                    }
                }
            }
            return
        }
        // General broadcast, C order, scalar.
        let a = try value(aName, .nchw, node: node)
        let b = try value(bName, .nchw, node: node)
        let out = newValue(node.outputs[0], shape: outShape, layout: .nchw)
        define(node.outputs[0], out)
        func strides(_ s: [Int]) -> [Int] {
            var st = [Int](repeating: 0, count: rank)
            var acc = 1
            for i in stride(from: rank - 1, through: 0, by: -1) {
                st[i] = s[i] == 1 ? 0 : acc
                acc *= s[i]
            }
            return st
        }
        let sa = strides(ap)
        let sb = strides(bp)
        addStep(node.label, reads: [a, b], writes: [out]) { bind in
            let x = bind.pointer(a)
            let y = bind.pointer(b)
            let z = bind.pointer(out)
            return { _ in
                for i in 0..<count {
                    var rem = i
                    var ia = 0
                    var ib = 0
                    for d in stride(from: rank - 1, through: 0, by: -1) {
                        let coord = rem % outShape[d]
                        rem /= outShape[d]
                        ia += coord * sa[d]
                        ib += coord * sb[d]
                    }
                    z[i] = fn(SIMD16(repeating: x[ia]), SIMD16(repeating: y[ib]))[0]
                }
            }
        }
    }

    /// Unfolded BatchNormalization (inference): y = (x − μ)·γ/√(σ² + ε) + β per channel (axis 1), any layout.
    func planBatchNorm(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let gamma = try constant(node.inputs[1], node: node, reason: "scale").floats
        let beta = try constant(node.inputs[2], node: node, reason: "bias").floats
        let mean = try constant(node.inputs[3], node: node, reason: "mean").floats
        let variance = try constant(node.inputs[4], node: node, reason: "variance").floats
        let eps = node.float("epsilon") ?? 1e-5
        let c = xShape.count > 1 ? xShape[1] : 1
        guard [gamma, beta, mean, variance].allSatisfy({ $0.count == c }) else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "parameters do not have \(c) channels")
        }
        let scale = (0..<c).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
        let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
        let input = try anyValue(node.inputs[0], node: node)
        let layout = values[input].layout
        let output = newValue(node.outputs[0], shape: xShape, layout: layout)
        define(node.outputs[0], output)
        let count = xShape.reduce(1, *)
        let inner = xShape.count > 2 ? xShape[2...].reduce(1, *) : 1
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { _ in
                for i in 0..<count {
                    let ch = layout == .nhwc ? i % c : (i / inner) % c
                    y[i] = x[i] * scale[ch] + shift[ch]
                }
            }
        }
    }
}

// MARK: - Lowerings (IR's op types; the kernels' pointwise ops of the same names are `Vector.swift`'s)

extension AddOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planBinary(node) } }
extension SubOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planBinary(node) } }
extension MulOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planBinary(node) } }
extension DivOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planBinary(node) } }
extension IR.SigmoidOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) } }
extension IR.ReluOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) } }
extension IR.SiluOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) } }
extension ClipOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) } }
extension IR.HardSigmoidOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) }
}
extension IR.HardSwishOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) }
}
extension IR.IdentityOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planUnary(node) }
}
extension DropoutOp: NativeLowering {
    static let maskRefusal = "Dropout's mask output is not supported by the native runtime; only its data output"
    static func lower(_ node: Node, _ b: PlanBuilder) throws {
        if node.outputs.count > 1 && !node.outputs[1].isEmpty {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: maskRefusal)
        }
        try b.planUnary(node)
    }
}
extension BatchNormalizationOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planBatchNorm(node) }
}
