import KernelCore
import IR

/// A 2-D Conv / effnet fused node's convolution for the native runtime: the IR's `ConvGeometry` (attribute checks,
/// `auto_pad`, output size) resolved against the input size, on the two spatial axes the kernels handle.
struct ConvAttributes {
    var kernel: (Int, Int)
    var strides: (Int, Int)
    /// [top, left, bottom, right].
    var pads: [Int]
    var dilations: (Int, Int)
    var group: Int

    init(node: Node, weightShape: [Int], inputHW: (Int, Int)) throws {
        guard weightShape.count == 4 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "a \(max(weightShape.count - 2, 0))-D convolution (weights \(weightShape)) is not supported by the native runtime; only 2-D convolutions"
            )
        }
        let g = try ConvGeometry(node: node, inputSize: [inputHW.0, inputHW.1], weightShape: weightShape)
        kernel = (g.kernel[0], g.kernel[1])
        strides = (g.strides[0], g.strides[1])
        dilations = (g.dilations[0], g.dilations[1])
        pads = g.padsBegin + g.padsEnd
        group = g.group
    }

    func geometry(batch: Int, inChannels: Int, outChannels: Int, inputHW: (Int, Int)) -> NHWCConvGeometry {
        NHWCConvGeometry(
            batch: batch, inHeight: inputHW.0, inWidth: inputHW.1, inChannels: inChannels, outChannels: outChannels,
            kernel: kernel, stride: strides, pads: pads, dilation: dilations)
    }
}

/// A dense convolution bound to its input: Winograd or implicit GEMM.
enum BoundConv {
    case winograd(WinogradConv)
    case direct(DenseConv)

    /// out = act(conv + bias) + residual over the whole batch, on `pool`.
    func callAsFunction(
        _ out: UnsafeMutablePointer<Float>, _ stride: Int, _ act: KernelActivation, _ res: UnsafePointer<Float>?,
        _ resStride: Int, _ pool: WorkerPool
    ) {
        switch self {
        case .winograd(let c):
            c.run(
                output: out, outputStride: stride, activation: act, residual: res, residualStride: resStride, pool: pool
            )
        case .direct(let c):
            c.run(
                output: out, outputStride: stride, activation: act, residual: res, residualStride: resStride, pool: pool
            )
        }
    }
}

/// A dense convolution's weights packed for the kernel its plan binds.
enum DenseWeights {
    case winograd(WinogradWeights)
    case gemm(PackedWeights)
}

/// A dense convolution planned (weights packed), to be bound to its input and scratch when the plan is bound.
struct PlannedConv {
    let geometry: NHWCConvGeometry
    let weights: DenseWeights
    let threads: Int

    /// Arena floats the bound convolution needs as scratch, all workers together (Winograd's transform buffers;
    /// the implicit GEMM needs none). A temporary of the step: every step's scratch shares the same arena bytes.
    var scratchFloats: Int {
        guard let variant = winogradVariant else { return 0 }
        return threads * WinogradConv.scratchFloats(geometry, variant: variant)
    }

    /// Rows of one depth-first block (`FusedPipeline`): m² pixels per Winograd tile, else 256 pixels.
    var blockRows: Int {
        guard let variant = winogradVariant else { return 256 }
        return variant.tile * variant.tile * WinogradConv.blockTiles(inChannels: geometry.inChannels, variant: variant)
    }

    var isWinograd: Bool { winogradVariant != nil }

    var winogradVariant: WinogradVariant? {
        if case .winograd(let w) = weights { return w.variant }
        return nil
    }

    /// `scratch`: `scratchFloats` floats (nil when that is 0).
    func bind(input: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>?) -> BoundConv {
        switch weights {
        case .winograd(let w):
            .winograd(WinogradConv(geometry: geometry, weights: w, input: input, threads: threads, scratch: scratch))
        case .gemm(let w):
            .direct(DenseConv(geometry: geometry, weights: w, input: input, inputStride: geometry.inChannels))
        }
    }
}

extension PlanBuilder {
    /// Packs a dense convolution's weights (once per session, see `prepared`) for the kernel that will run it:
    /// Winograd F(4×4, 3×3) or F(2×2, 3×3) where it pays (`WinogradConv.variant(for:)`: channels and output size,
    /// measured), the implicit-GEMM `DenseConv` otherwise. The packed form is cached under the kernel it was made
    /// for, so plans for other input sizes that choose another variant pack their own.
    func denseConv(_ g: NHWCConvGeometry, node: Node, weight: String, bias: String?, biasWhat: String) throws
        -> PlannedConv
    {
        let winograd = WinogradConv.variant(for: g)
        let kind = winograd.map { "winograd\($0.tile)" } ?? "conv"
        let packed = try prepared(kind, [weight, bias]) { () throws -> DenseWeights in
            let w = try packingInput(weight, node: node, reason: "convolution weights")
            let b = try floats(bias, node: node, what: biasWhat, count: g.outChannels)
            if let winograd {
                return .winograd(
                    WinogradWeights(
                        weights: w.floats, bias: b, inChannels: g.inChannels, outChannels: g.outChannels,
                        variant: winograd))
            }
            let shape = [g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth]
            return .gemm(PackedWeights(convWeights: w.floats, shape: shape, bias: b))
        }
        return PlannedConv(geometry: g, weights: packed, threads: threads)
    }

    /// An arena temporary of `count` floats for one step's scratch, or nil when `count` is 0.
    func scratch(_ label: String, count: Int) -> Int? {
        count > 0 ? temporary(label, count: count) : nil
    }

    /// Throws unless constant `name` (when given) holds `count` values; reads its shape only.
    func checkCount(_ name: String?, node: Node, what: String, count: Int) throws {
        guard let name else { return }
        let n = try constantShape(name, node: node, reason: what).reduce(1, *)
        if n != count {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "\(what) '\(name)' has \(n) values, expected \(count)")
        }
    }

    /// The values of optional constant `name` (a bias), after checking there are `count`; for `prepared` closures.
    func floats(_ name: String?, node: Node, what: String, count: Int) throws -> [Float]? {
        guard let name else { return nil }
        try checkCount(name, node: node, what: what, count: count)
        return try packingInput(name, node: node, reason: what).floats
    }

    /// A fused node's activation attribute, as the IR defines it (`FusedConvOp.activation`).
    func activation(_ node: Node, _ key: String) throws -> KernelActivation { try FusedConvOp.activation(node, key) }

    /// Conv (activation none) and FusedConv: dense convolutions through the GEMM, depthwise through its kernel.
    func planConv(_ node: Node) throws {
        let x = node.inputs[0]
        let xShape = try shape(of: x, node: node)
        guard xShape.count == 4 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "input rank \(xShape.count), expected 4")
        }
        let weight = node.inputs[1]
        let bias = node.input(2)
        let wShape = try constantShape(weight, node: node, reason: "convolution weights")
        guard wShape.count == 4, wShape[0] > 0 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "weights of shape \(wShape)")
        }
        try checkCount(bias, node: node, what: "convolution bias", count: wShape[0])
        let attrs = try ConvAttributes(node: node, weightShape: wShape, inputHW: (xShape[2], xShape[3]))
        let act = node.opType == "FusedConv" ? try activation(node, "activation") : .none
        let g = attrs.geometry(
            batch: xShape[0], inChannels: xShape[1], outChannels: wShape[0], inputHW: (xShape[2], xShape[3]))
        if attrs.group == 1 && wShape[1] == xShape[1] {
            let planned = try denseConv(g, node: node, weight: weight, bias: bias, biasWhat: "convolution bias")
            let (input, output) = try convValues(node, g)
            let scratchId = scratch(node.label + ".scratch", count: planned.scratchFloats)
            addStep(node.label, reads: [input], writes: [output] + [scratchId].compactMap { $0 }) { b in
                let conv = planned.bind(input: b.pointer(input), scratch: scratchId.map { b.pointer($0) })
                let out = b.pointer(output)
                return { pool in conv(out, g.outChannels, act, nil, 0, pool) }
            }
        } else if attrs.group == xShape[1] && wShape[0] == xShape[1] && wShape[1] == 1 {
            let dw = try depthwise(node, weight: weight, bias: bias, biasWhat: "convolution bias")
            let (input, output) = try convValues(node, g)
            addStep(node.label, reads: [input], writes: [output]) { b in
                let src = b.pointer(input)
                let out = b.pointer(output)
                return { pool in
                    Depthwise.run(
                        input: src, geometry: g, weights: dw, output: out, activation: act, seSums: nil, seScratch: nil,
                        pool: pool)
                }
            }
        } else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "a grouped convolution with group \(attrs.group) is not supported by the native runtime; only group 1 and depthwise (one filter per channel)"
            )
        }
    }

    /// The input (NHWC) and the newly defined output of convolution `node`.
    private func convValues(_ node: Node, _ g: NHWCConvGeometry) throws -> (input: Int, output: Int) {
        let input = try value(node.inputs[0], .nhwc, node: node)
        let output = newValue(node.outputs[0], shape: [g.batch, g.outChannels, g.outHeight, g.outWidth], layout: .nhwc)
        define(node.outputs[0], output)
        return (input, output)
    }

    /// Depthwise weights `[C, 1, kh, kw]` (and bias) in the kernel's layout, once per session.
    func depthwise(_ node: Node, weight: String, bias: String?, biasWhat: String) throws -> DepthwiseWeights {
        try prepared("depthwise", [weight, bias]) {
            let w = try packingInput(weight, node: node, reason: "depthwise weights")
            let b = try floats(bias, node: node, what: biasWhat, count: w.shape[0])
            return DepthwiseWeights(weights: w.floats, shape: w.shape, bias: b)
        }
    }
}

// MARK: - Lowerings

extension ConvOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planConv(node) } }
extension FusedConvOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planConv(node) }
}
