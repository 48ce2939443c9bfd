/// The scalar reference of Conv and FusedConv (what the reference interpreter runs; the fast runtime's kernels are
/// tested against it).
extension ConvOp {
    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try conv(try c.required(0, "X"), try c.required(1, "W"), c.input(2), node: c.node, activation: .none)]
    }

    /// 1-D or 2-D grouped convolution, y = act(B + Σ W·x), accumulated in Double.
    ///
    /// Loop order: for each output row, each output channel, each input channel and kernel tap, a whole output
    /// row is accumulated (`acc[ox] += w · x[iy, ox·s + kx·d − pad]`), with the valid `ox` range precomputed per
    /// tap so the inner loop has no bounds tests; the input rows of one output row stay in cache across output
    /// channels. A 1×1, stride-1, unpadded convolution accumulates whole planes instead (long inner loops).
    package static func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, node: Node, activation: Activation) throws
        -> Tensor
    {
        try x.requireFloat(node)
        guard x.rank == 3 || x.rank == 4 else {
            throw IRError.invalidNode(
                node: node.label, message: "only 1-D and 2-D convolutions are supported, got input \(x.shape)")
        }
        // A 1-D convolution is a 2-D one over a height of 1.
        if x.rank == 3 {
            var node2 = node
            for key in ["kernel_shape", "strides", "dilations"] {
                if let v = node.ints(key) { node2.attributes[key] = .ints([1] + v) }
            }
            if let p = node.ints("pads"), p.count == 2 { node2.attributes["pads"] = .ints([0, p[0], 0, p[1]]) }
            let y = try conv(
                x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]),
                w.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]]), b,
                node: node2, activation: activation)
            return y.reshaped([y.shape[0], y.shape[1], y.shape[3]])
        }
        let g = try ConvGeometry(node: node, inputShape: x.shape, weightShape: w.shape)
        if let b, b.count != w.shape[0] {
            throw IRError.invalidNode(
                node: node.label, message: "bias has \(b.count) elements for \(w.shape[0]) output channels")
        }
        let (n, c, h, wi) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, kh, kw) = (w.shape[0], g.kernel[0], g.kernel[1])
        let (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1])
        let (pt, pl) = (g.padsBegin[0], g.padsBegin[1])
        let groups = g.group
        let cg = c / groups
        let mg = m / groups
        let xs = x.referenceDoubles
        let ws = w.referenceDoubles
        let bias = b?.referenceDoubles ?? [Double](repeating: 0, count: m)
        var out = [Double](repeating: 0, count: n * m * oh * ow)

        // For tap kx, output columns [first, end) read input column ox·sw + offset, which is in range.
        var first = [Int](repeating: 0, count: kw)
        var end = [Int](repeating: 0, count: kw)
        var offset = [Int](repeating: 0, count: kw)
        for kx in 0..<kw {
            offset[kx] = kx * dw - pl
            var lo = 0
            while lo < ow && lo * sw + offset[kx] < 0 { lo += 1 }
            var hi = ow
            while hi > lo && (hi - 1) * sw + offset[kx] >= wi { hi -= 1 }
            first[kx] = lo
            end[kx] = hi
        }
        let pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && g.padsBegin == [0, 0] && g.padsEnd == [0, 0]

        xs.withUnsafeBufferPointer { xp in
            ws.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    if pointwise {
                        let plane = h * wi
                        var acc = [Double](repeating: 0, count: plane)
                        acc.withUnsafeMutableBufferPointer { ap in
                            for ni in 0..<n {
                                for gi in 0..<groups {
                                    for ml in 0..<mg {
                                        let mo = gi * mg + ml
                                        for p in 0..<plane { ap[p] = bias[mo] }
                                        for cl in 0..<cg {
                                            let wv = wp[mo * cg + cl]
                                            let base = ((ni * c) + gi * cg + cl) * plane
                                            for p in 0..<plane { ap[p] += wv * xp[base + p] }
                                        }
                                        let ob = (ni * m + mo) * plane
                                        for p in 0..<plane { op[ob + p] = activation.apply(ap[p]) }
                                    }
                                }
                            }
                        }
                        return
                    }
                    var acc = [Double](repeating: 0, count: ow)
                    acc.withUnsafeMutableBufferPointer { ap in
                        for ni in 0..<n {
                            for gi in 0..<groups {
                                for oy in 0..<oh {
                                    for ml in 0..<mg {
                                        let mo = gi * mg + ml
                                        for ox in 0..<ow { ap[ox] = bias[mo] }
                                        for cl in 0..<cg {
                                            let channel = (ni * c) + gi * cg + cl
                                            for ky in 0..<kh {
                                                let iy = oy * sh - pt + ky * dh
                                                if iy < 0 || iy >= h { continue }
                                                let row = (channel * h + iy) * wi
                                                let wrow = ((mo * cg + cl) * kh + ky) * kw
                                                for kx in 0..<kw {
                                                    let wv = wp[wrow + kx]
                                                    let base = row + offset[kx]
                                                    if sw == 1 {
                                                        for ox in first[kx]..<end[kx] { ap[ox] += wv * xp[base + ox] }
                                                    } else {
                                                        for ox in first[kx]..<end[kx] {
                                                            ap[ox] += wv * xp[base + ox * sw]
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                        let ob = ((ni * m + mo) * oh + oy) * ow
                                        for ox in 0..<ow { op[ob + ox] = activation.apply(ap[ox]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor.reference(x.dtype, shape: [n, m, oh, ow], out)
    }
}

extension FusedConvOp {
    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        let activation = try activation(c.node, "activation")
        return [
            try ConvOp.conv(try c.required(0, "X"), try c.required(1, "W"), c.input(2), node: c.node, activation: activation)
        ]
    }
}
