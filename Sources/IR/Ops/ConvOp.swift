/// `Conv`: N-d cross-correlation with groups, strides, dilations, explicit pads or `auto_pad`, optional bias.
///
/// y[n, m, o…] = B[m] + Σ_{c ∈ group(m), k…} W[m, c, k…] · x[n, g·C/G + c, o·s + k·d − pad_begin]
/// with out-of-range x reading 0. Output size per spatial axis: ⌊(in + pad_begin + pad_end − ((k−1)·d + 1)) / s⌋ + 1;
/// `SAME_UPPER`/`SAME_LOWER` give ⌈in / s⌉ with the total pad max(0, (out−1)·s + (k−1)·d + 1 − in) split so the
/// extra pixel goes at the end (UPPER) or the beginning (LOWER); `VALID` pads nothing.
package enum ConvOp: OperatorDefinition {
    static let opType = "Conv"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        [try inferConv(c, biasIndex: 2)]
    }

    /// Shared with `FusedConv`, whose inputs and attributes are Conv's.
    static func inferConv(_ c: InferenceContext, biasIndex: Int) throws -> ValueFacts {
        let x = try c.required(0, "X")
        let w = try c.required(1, "W")
        if let a = x.dtype, let b = w.dtype, a != b { throw c.fail("input is \(a) but weights are \(b)") }
        let group = c.node.int("group") ?? 1
        guard group >= 1 else { throw c.fail("group must be ≥ 1, got \(group)") }
        let rank = x.rank ?? w.rank
        if let xr = x.rank, let wr = w.rank, xr != wr {
            throw c.fail("input has rank \(xr) but weights have rank \(wr)")
        }
        guard let rank else { return facts(x.dtype ?? w.dtype, nil) }
        guard rank >= 3 else { throw c.fail("Conv needs an input of rank ≥ 3, got rank \(rank)") }
        let spatial = rank - 2
        if let xs = x.shape, let ws = w.shape, let ch = xs[1].value, let wc = ws[1].value, ch != wc * group {
            throw c.fail("input has \(ch) channels but the weights expect \(wc) × group \(group) = \(wc * group)")
        }
        let m = w.shape?[0] ?? .unknown
        if let mv = m.value, mv % group != 0 {
            throw c.fail("\(mv) output channels are not divisible by group \(group)")
        }
        if let b = c.input(biasIndex), let bs = b.shape {
            guard bs.count == 1 else { throw c.fail("bias must be 1-D, got \(bs.text)") }
            if let bv = bs[0].value, let mv = m.value, bv != mv {
                throw c.fail("bias has \(bv) elements for \(mv) output channels")
            }
        }
        let kernel = try kernelShape(c.node, weightShape: w.shape, spatial: spatial)
        let attrs = try ConvGeometry.Attributes(node: c.node, spatial: spatial)
        var out: Shape = [x.shape?[0] ?? .unknown, m]
        for i in 0..<spatial {
            let input = x.shape?[2 + i] ?? .unknown
            guard let k = kernel?[i] else {
                out.append(.unknown)
                continue
            }
            out.append(try attrs.outputDim(input, axis: i, kernel: k, node: c.node))
        }
        return facts(x.dtype ?? w.dtype, out)
    }

    /// `kernel_shape`, checked against the weights' spatial dims; nil when neither tells.
    static func kernelShape(_ node: Node, weightShape: Shape?, spatial: Int) throws -> [Int]? {
        let fromWeights = weightShape.map { Array($0.dropFirst(2)) }?.concrete
        if let k = node.ints("kernel_shape") {
            guard k.count == spatial else {
                throw IRError.invalidNode(
                    node: node.label, message: "kernel_shape \(k) does not have \(spatial) entries")
            }
            if let fromWeights, fromWeights != k {
                throw IRError.invalidNode(
                    node: node.label, message: "kernel_shape \(k) disagrees with the weights' \(fromWeights)")
            }
            return k
        }
        return fromWeights
    }
}

/// The resolved geometry of a convolution on a concrete input: what every kernel needs, with `auto_pad`
/// already turned into explicit pads. Shared by the reference interpreter, the fast runtime and the optimizer.
public struct ConvGeometry: Sendable, Hashable, CustomStringConvertible {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    public var group: Int
    /// Spatial sizes of the input and of the output.
    public var inputSize: [Int]
    public var outputSize: [Int]

    /// Resolves a Conv (or FusedConv, MBConv/FusedMBConv conv) node for an input of shape `[N, C, spatial…]`
    /// and weights `[M, C/group, kernel…]`; throws `IRError.invalidNode` when they do not fit.
    public init(node: Node, inputShape: [Int], weightShape: [Int]) throws {
        let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
        guard inputShape.count >= 3, weightShape.count == inputShape.count else {
            throw fail(
                "input \(Shape(inputShape).text) and weights \(Shape(weightShape).text) do not fit a convolution")
        }
        let spatial = inputShape.count - 2
        let attrs = try Attributes(node: node, spatial: spatial)
        let group = attrs.group
        guard inputShape[1] == weightShape[1] * group, weightShape[0] % group == 0 else {
            throw fail(
                "input has \(inputShape[1]) channels but the weights \(Shape(weightShape).text) with group \(group) expect \(weightShape[1] * group)"
            )
        }
        try self.init(node: node, inputSize: Array(inputShape.dropFirst(2)), weightShape: weightShape, attributes: attrs)
    }

    /// The spatial geometry alone, for input spatial sizes `inputSize` and weights `[M, C/group, kernel…]`, without
    /// the channel checks: what the native runtime asks for a fused block's convolution (whose node has no `group`
    /// even when the convolution is depthwise).
    package init(node: Node, inputSize: [Int], weightShape: [Int]) throws {
        guard !inputSize.isEmpty, weightShape.count == inputSize.count + 2 else {
            throw IRError.invalidNode(
                node: node.label,
                message: "input size \(inputSize) and weights \(Shape(weightShape).text) do not fit a convolution")
        }
        try self.init(
            node: node, inputSize: inputSize, weightShape: weightShape,
            attributes: try Attributes(node: node, spatial: inputSize.count))
    }

    private init(node: Node, inputSize: [Int], weightShape: [Int], attributes attrs: Attributes) throws {
        let spatial = inputSize.count
        group = attrs.group
        kernel = try ConvOp.kernelShape(node, weightShape: Shape(weightShape), spatial: spatial)!
        strides = attrs.strides
        dilations = attrs.dilations
        self.inputSize = inputSize
        padsBegin = []
        padsEnd = []
        outputSize = []
        for i in 0..<spatial {
            let (out, begin, end) = try attrs.resolve(inputSize[i], axis: i, kernel: kernel[i], node: node)
            outputSize.append(out)
            padsBegin.append(begin)
            padsEnd.append(end)
        }
    }

    public var description: String {
        "k\(kernel) s\(strides) d\(dilations) pads\(padsBegin + padsEnd) g\(group) \(inputSize)→\(outputSize)"
    }

    /// The attributes as written on the node, before the input size is known.
    struct Attributes {
        var strides: [Int]
        var dilations: [Int]
        var pads: [Int]
        var autoPad: String
        var group: Int

        init(node: Node, spatial: Int) throws {
            let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
            strides = node.ints("strides") ?? [Int](repeating: 1, count: spatial)
            dilations = node.ints("dilations") ?? [Int](repeating: 1, count: spatial)
            pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
            autoPad = node.string("auto_pad") ?? "NOTSET"
            group = node.int("group") ?? 1
            guard strides.count == spatial, strides.allSatisfy({ $0 >= 1 }) else {
                throw fail("strides \(strides) must be \(spatial) positive values")
            }
            guard dilations.count == spatial, dilations.allSatisfy({ $0 >= 1 }) else {
                throw fail("dilations \(dilations) must be \(spatial) positive values")
            }
            guard pads.count == 2 * spatial, pads.allSatisfy({ $0 >= 0 }) else {
                throw fail("pads \(pads) must be \(2 * spatial) non-negative values")
            }
            guard group >= 1 else { throw fail("group must be ≥ 1, got \(group)") }
            guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
                throw fail("unknown auto_pad '\(autoPad)'")
            }
        }

        /// (output size, pad begin, pad end) along `axis` for a known input size (OpCore's `ConvArithmetic`).
        func resolve(_ input: Int, axis i: Int, kernel k: Int, node: Node) throws -> (Int, Int, Int) {
            do {
                switch autoPad {
                case "SAME_UPPER", "SAME_LOWER":
                    let r = try ConvArithmetic.same(
                        input: input, kernel: k, stride: strides[i], dilation: dilations[i],
                        upper: autoPad == "SAME_UPPER")
                    return (r.size, r.padBegin, r.padEnd)
                default:
                    let (b, e) = autoPad == "VALID" ? (0, 0) : (pads[i], pads[i + pads.count / 2])
                    let out = try ConvArithmetic.outputSize(
                        input: input, kernel: k, stride: strides[i], dilation: dilations[i], padBegin: b, padEnd: e)
                    return (out, b, e)
                }
            } catch .overflow {
                throw IRError.invalidNode(
                    node: node.label,
                    message:
                        "input size \(input), kernel \(k), stride \(strides[i]), dilation \(dilations[i]) and pads \(pads) overflow 64-bit arithmetic on spatial axis \(i)"
                )
            } catch .kernelLargerThanInput(let padded) {
                throw IRError.invalidNode(
                    node: node.label,
                    message:
                        "kernel \(k) (dilation \(dilations[i])) is larger than the padded input \(padded) on spatial axis \(i)"
                )
            }
        }

        /// The output dimension for a possibly symbolic input: a symbol survives a size-preserving convolution.
        func outputDim(_ input: Dim, axis i: Int, kernel k: Int, node: Node) throws -> Dim {
            if let v = input.value { return .known(try resolve(v, axis: i, kernel: k, node: node).0) }
            guard case .symbol = input, strides[i] == 1 else { return .unknown }
            let (scaled, o) = (k - 1).multipliedReportingOverflow(by: dilations[i])
            guard !o, scaled < Int.max else { return .unknown }
            let effective = scaled + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER": return input
            case "VALID": return effective == 1 ? input : .unknown
            default:
                let (sum, o) = pads[i].addingReportingOverflow(pads[i + pads.count / 2])
                return !o && sum == effective - 1 ? input : .unknown
            }
        }
    }
}
