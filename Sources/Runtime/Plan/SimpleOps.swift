import Foundation
import IR

/// The ops around the blocks: pointwise activations, broadcast arithmetic, pooling, reshapes, the classifier,
/// softmax, unfolded BatchNormalization. Elementwise ops keep whatever layout their input has; ops that care about
/// axes other than channels (reshapes, Gemm, Softmax) read C order, and the builder converts at that edge.
extension PlanBuilder {
    /// Any existing version of `name`, preferring `preferred`.
    func anyValue(_ name: String, preferring preferred: Layout = .nhwc, node: Node) throws -> Int {
        if let versions = current[name], let id = versions[preferred] ?? versions.values.first { return id }
        return try value(name, .plain, node: node)
    }

    func planUnary(_ node: Node) throws {
        let input = try anyValue(node.inputs[0], node: node)
        let v = values[input]
        let output = newValue(node.outputs[0], shape: v.shape, layout: v.layout)
        define(node.outputs[0], output)
        let count = v.count
        let op: (SIMD16<Float>) -> SIMD16<Float>
        let simple: [String: Activation] = [
            "Identity": .none, "Dropout": .none, "Relu": .relu, "Sigmoid": .sigmoid, "Silu": .silu, "HardSwish": .hardswish,
        ]
        if let act = simple[node.opType] {
            // Copy, then the specialised in-place loop (a closure per vector would not be inlined).
            addStep(node.label, reads: [input], writes: [output]) { b in
                let src = b.pointer(input), dst = b.pointer(output)
                return { pool in
                    pool.parallelFor((count + 4095) / 4096) { range, _ in
                        let start = range.lowerBound * 4096, end = min(count, range.upperBound * 4096)
                        (dst + start).update(from: src + start, count: end - start)
                        act.apply(dst + start, count: end - start)
                    }
                }
            }
            return
        }
        switch node.opType {
        case "HardSigmoid":
            let alpha = node.float("alpha") ?? 0.2, beta = node.float("beta") ?? 0.5
            op = { pointwiseMin(pointwiseMax($0 * alpha + beta, SIMD16(repeating: 0)), SIMD16(repeating: 1)) }
        case "Clip":
            var lo = node.float("min") ?? -Float.greatestFiniteMagnitude
            var hi = node.float("max") ?? Float.greatestFiniteMagnitude
            if let name = node.input(1) { lo = try constant(name, node: node, reason: "Clip min").floats[0] }
            if let name = node.input(2) { hi = try constant(name, node: node, reason: "Clip max").floats[0] }
            op = { pointwiseMin(pointwiseMax($0, SIMD16(repeating: lo)), SIMD16(repeating: hi)) }
        default:
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "not a unary op")
        }
        addStep(node.label, reads: [input], writes: [output]) { b in
            let src = b.pointer(input), dst = b.pointer(output)
            return { pool in
                let chunks = (count + 4095) / 4096
                pool.parallelFor(chunks) { range, _ in
                    let start = range.lowerBound * 4096, end = min(count, range.upperBound * 4096)
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
        let aName = node.inputs[0], bName = node.inputs[1]
        let aShape = try shape(of: aName, node: node), bShape = try shape(of: bName, node: node)
        let rank = max(aShape.count, bShape.count)
        let ap = [Int](repeating: 1, count: rank - aShape.count) + aShape
        let bp = [Int](repeating: 1, count: rank - bShape.count) + bShape
        var outShape = [Int]()
        for i in 0..<rank {
            guard ap[i] == bp[i] || ap[i] == 1 || bp[i] == 1 else {
                throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "shapes \(aShape) and \(bShape) do not broadcast")
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
        func perChannel(_ s: [Int]) -> Bool { s.count == 4 && s[2] == 1 && s[3] == 1 && (s[1] == outShape[1] || s[1] == 1) }
        if ap == bp {
            let a = try anyValue(aName, node: node)
            let layout = values[a].layout
            let b = try value(bName, layout, node: node)
            let out = newValue(node.outputs[0], shape: outShape, layout: layout)
            define(node.outputs[0], out)
            addStep(node.label, reads: [a, b], writes: [out]) { bind in
                let x = bind.pointer(a), y = bind.pointer(b), z = bind.pointer(out)
                return { pool in
                    pool.parallelFor((count + 4095) / 4096) { range, _ in
                        let start = range.lowerBound * 4096, end = min(count, range.upperBound * 4096)
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
            let smallId = try value(fullIsA ? bName : aName, .plain, node: node)
            let out = newValue(node.outputs[0], shape: outShape, layout: layout)
            define(node.outputs[0], out)
            let (n, c, hw) = (outShape[0], outShape[1], outShape[2] * outShape[3])
            let perImage = small[0] != 1, perCh = small[1] != 1
            addStep(node.label, reads: [fullId, smallId], writes: [out]) { bind in
                let x = bind.pointer(fullId), s = bind.pointer(smallId), z = bind.pointer(out)
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
                                    z[row + ch] = fullIsA ? fn(SIMD16(repeating: xv), SIMD16(repeating: sv))[0] : fn(SIMD16(repeating: sv), SIMD16(repeating: xv))[0]
                                }
                            } else {
                                let img = r / c, ch = r % c
                                let sv = SIMD16<Float>(repeating: s[(perImage ? img * (perCh ? c : 1) : 0) + (perCh ? ch : 0)])
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
        let a = try value(aName, .plain, node: node), b = try value(bName, .plain, node: node)
        let out = newValue(node.outputs[0], shape: outShape, layout: .plain)
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
        let sa = strides(ap), sb = strides(bp)
        addStep(node.label, reads: [a, b], writes: [out]) { bind in
            let x = bind.pointer(a), y = bind.pointer(b), z = bind.pointer(out)
            return { _ in
                for i in 0..<count {
                    var rem = i, ia = 0, ib = 0
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

    /// GlobalAveragePool, and ReduceMean over the two spatial axes: [N, C, H, W] → [N, C, 1, 1] (or [N, C]).
    func planSpatialMean(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        guard xShape.count == 4 else { throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "input rank \(xShape.count)") }
        var keep = true
        if node.opType == "ReduceMean" {
            var axes = node.ints("axes")
            if axes == nil, let name = node.input(1) { axes = try constant(name, node: node, reason: "ReduceMean axes").ints }
            let normalized = Set((axes ?? [0, 1, 2, 3]).map { $0 < 0 ? $0 + 4 : $0 })
            guard normalized == [2, 3] else {
                throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "ReduceMean over axes \(axes ?? []) (only spatial means run)")
            }
            keep = (node.int("keepdims") ?? 1) != 0
        }
        let input = try value(node.inputs[0], .nhwc, node: node)
        let (n, c, hw) = (xShape[0], xShape[1], xShape[2] * xShape[3])
        let output = newValue(node.outputs[0], shape: keep ? [n, c, 1, 1] : [n, c], layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { pool in
                pool.parallelFor(n) { images, _ in GlobalPool.average(x, batch: n, pixels: hw, channels: c, into: y, images: images) }
            }
        }
    }

    /// Flatten / Reshape / Squeeze / Unsqueeze: a copy in C order under the new shape.
    func planReshape(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let count = xShape.reduce(1, *)
        var out: [Int]
        switch node.opType {
        case "Flatten":
            var axis = node.int("axis") ?? 1
            if axis < 0 { axis += xShape.count }
            out = [xShape[..<axis].reduce(1, *), xShape[axis...].reduce(1, *)]
        case "Reshape":
            let spec = try constant(node.inputs[1], node: node, reason: "Reshape shape").ints
            out = spec.enumerated().map { i, d in d == 0 && i < xShape.count ? xShape[i] : d }
            if let free = out.firstIndex(of: -1) {
                out[free] = count / max(1, out.enumerated().filter { $0.offset != free }.map(\.element).reduce(1, *))
            }
        case "Squeeze":
            var axes = node.ints("axes")
            if axes == nil, let name = node.input(1) { axes = try constant(name, node: node, reason: "Squeeze axes").ints }
            let drop = Set((axes ?? xShape.indices.filter { xShape[$0] == 1 }).map { $0 < 0 ? $0 + xShape.count : $0 })
            out = xShape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        default:  // Unsqueeze
            var axes = node.ints("axes")
            if axes == nil, let name = node.input(1) { axes = try constant(name, node: node, reason: "Unsqueeze axes").ints }
            let rank = xShape.count + (axes ?? []).count
            let add = Set((axes ?? []).map { $0 < 0 ? $0 + rank : $0 })
            var it = xShape.makeIterator()
            out = (0..<rank).map { add.contains($0) ? 1 : it.next()! }
        }
        guard out.reduce(1, *) == count else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "cannot reshape \(xShape) to \(out)")
        }
        let input = try value(node.inputs[0], .plain, node: node)
        let output = newValue(node.outputs[0], shape: out, layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { _ in y.update(from: x, count: count) }
        }
    }

    /// Gemm (constant B and C) and MatMul (constant B): the classifier, through the GEMM (1-row kernel at batch 1).
    func planGemm(_ node: Node) throws {
        let aShape = try shape(of: node.inputs[0], node: node)
        let bT = try constant(node.inputs[1], node: node, reason: "\(node.opType) weights")
        guard bT.shape.count == 2 else { throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "weights of rank \(bT.shape.count)") }
        let isGemm = node.opType == "Gemm"
        if isGemm && (node.int("transA") ?? 0) != 0 {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "transA = 1")
        }
        let transB = isGemm && (node.int("transB") ?? 0) != 0
        let (k, n) = transB ? (bT.shape[1], bT.shape[0]) : (bT.shape[0], bT.shape[1])
        guard aShape.last == k || (isGemm && aShape.count == 2 && aShape[1] == k) else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "input \(aShape) does not match weights \(bT.shape)")
        }
        let m = aShape.reduce(1, *) / k
        let alpha = isGemm ? node.float("alpha") ?? 1 : 1
        let beta = isGemm ? node.float("beta") ?? 1 : 1
        var bias = [Float](repeating: 0, count: n)
        if isGemm, let cName = node.input(2) {
            let c = try constant(cName, node: node, reason: "Gemm C").floats
            guard c.count == n || c.count == 1 else {
                throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "C of \(c.count) values (only per-column bias runs)")
            }
            bias = (0..<n).map { beta * c[c.count == 1 ? 0 : $0] }
        }
        let scaledB = alpha == 1 ? bT.floats : bT.floats.map { $0 * alpha }
        let packed = PackedWeights(matrix: scaledB, k: k, n: n, transposed: transB, bias: bias)
        let input = try value(node.inputs[0], .plain, node: node)
        let output = newValue(node.outputs[0], shape: Array(aShape.dropLast()) + [n], layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { pool in
                GEMM.run(GEMM.Problem(rows: .direct(base: x, stride: k), m: m, weights: packed, c: y, ldc: n), pool: pool)
            }
        }
    }

    /// Softmax over the last axis (opset ≥ 13 default; older opsets' flattening agrees for [N, classes]).
    func planSoftmax(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let rank = xShape.count
        var axis = node.int("axis") ?? -1
        if axis < 0 { axis += rank }
        guard xShape[(axis + 1)...].allSatisfy({ $0 == 1 }) || axis == rank - 1 else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "softmax over axis \(axis) of \(xShape)")
        }
        let inner = xShape[axis...].reduce(1, *)
        let rows = xShape.reduce(1, *) / max(inner, 1)
        let input = try value(node.inputs[0], .plain, node: node)
        let output = newValue(node.outputs[0], shape: xShape, layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { _ in
                for r in 0..<rows {
                    let src = x + r * inner, dst = y + r * inner
                    var mx = -Float.infinity
                    for i in 0..<inner { mx = max(mx, src[i]) }
                    var sum: Double = 0
                    for i in 0..<inner {
                        dst[i] = Float(Foundation.exp(Double(src[i] - mx)))
                        sum += Double(dst[i])
                    }
                    let inv = Float(1 / sum)
                    for i in 0..<inner { dst[i] *= inv }
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
        let scale = (0..<c).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
        let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
        let input = try anyValue(node.inputs[0], node: node)
        let layout = values[input].layout
        let output = newValue(node.outputs[0], shape: xShape, layout: layout)
        define(node.outputs[0], output)
        let count = xShape.reduce(1, *)
        let inner = xShape.count > 2 ? xShape[2...].reduce(1, *) : 1
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { _ in
                for i in 0..<count {
                    let ch = layout == .nhwc ? i % c : (i / inner) % c
                    y[i] = x[i] * scale[ch] + shift[ch]
                }
            }
        }
    }
}

extension PlanBuilder {
    /// Constant-mode Pad of the two spatial axes of a 4-D value (timm `tf_` SAME padding before a convolution),
    /// in NHWC: a copy into a zero-bordered buffer.
    func planPad(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let mode = node.string("mode") ?? "constant"
        var pads = node.ints("pads")
        if pads == nil, let name = node.input(1) { pads = try constant(name, node: node, reason: "Pad pads").ints }
        var fill: Float = node.float("value") ?? 0
        if let name = node.input(2) { fill = try constant(name, node: node, reason: "Pad value").floats.first ?? 0 }
        guard mode == "constant", xShape.count == 4, let p = pads, p.count == 8, node.input(3) == nil,
            p[0] == 0, p[1] == 0, p[4] == 0, p[5] == 0, p.allSatisfy({ $0 >= 0 })
        else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "only non-negative constant padding of H and W runs")
        }
        let (n, c, h, w) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (top, left, bottom, right) = (p[2], p[3], p[6], p[7])
        let oh = h + top + bottom, ow = w + left + right
        let input = try value(node.inputs[0], .nhwc, node: node)
        let output = newValue(node.outputs[0], shape: [n, c, oh, ow], layout: .nhwc)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input), y = b.pointer(output)
            return { pool in
                pool.parallelFor(n * oh) { rows, _ in
                    for r in rows {
                        let img = r / oh, oy = r % oh
                        let dst = y + r * ow * c
                        let iy = oy - top
                        if iy < 0 || iy >= h {
                            dst.update(repeating: fill, count: ow * c)
                            continue
                        }
                        dst.update(repeating: fill, count: left * c)
                        (dst + left * c).update(from: x + ((img * h + iy) * w) * c, count: w * c)
                        (dst + (left + w) * c).update(repeating: fill, count: right * c)
                    }
                }
            }
        }
    }
}
