import KernelCore
import IR

/// The squeeze-excitation part of a fused block, bound to its per-session scratch.
final class SEStage {
    let se: SqueezeExcite
    let batch: Int
    let sums: FloatBuffer
    let scratch: FloatBuffer
    let hidden: FloatBuffer
    let scale: FloatBuffer

    /// `rows`: output rows over the batch of the op that produces the sums (depthwise per-row partial sums).
    init(se: SqueezeExcite, batch: Int, rows: Int) {
        self.se = se
        self.batch = batch
        let pc = se.paddedChannels
        sums = FloatBuffer(count: batch * pc)
        scratch = FloatBuffer(count: max(rows, batch) * pc)
        hidden = FloatBuffer(count: max(se.reduced, 1))
        scale = FloatBuffer(count: batch * pc)
    }

    /// scale[n] from sums[n] for every image.
    func computeScales(pixels: Int) {
        let pc = se.paddedChannels
        for n in 0..<batch {
            se.computeScale(
                sums: sums.pointer + n * pc, pixels: pixels, hidden: hidden.pointer, scale: scale.pointer + n * pc)
        }
    }

    /// Runs `project` on `input` (pixels × channels per image) with the SE scale applied at the cheaper site.
    func project(
        _ conv: DenseConv, input: UnsafeMutablePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>,
        outputStride: Int, residual: UnsafePointer<Float>?, residualStride: Int, scaled: UnsafeMutablePointer<Float>?,
        pool: WorkerPool
    ) {
        let pc = se.paddedChannels
        let channels = se.channels
        switch SqueezeExcite.site(pixels: pixels, outputs: conv.weights.outputs) {
        case .weights:
            guard let scaled else { preconditionFailure("no scratch for SE-scaled weights (see scaledProjectScratch)") }
            for n in 0..<batch {
                let s = scale.pointer + n * pc
                pool.parallelFor(conv.weights.panels.count) { panels, _ in
                    SqueezeExcite.scalePacked(conv.weights, scale: s, into: scaled, panels: panels)
                }
                conv.run(
                    output: output, outputStride: outputStride, activation: .none, residual: residual,
                    residualStride: residualStride, packedOverride: UnsafePointer(scaled), firstPixel: n * pixels,
                    pixels: pixels, pool: pool)
            }
        case .activations:
            let scalePtr = scale.pointer
            pool.parallelFor(batch * pixels) { range, _ in
                var p = range.lowerBound
                while p < range.upperBound {
                    let n = p / pixels
                    let end = min(range.upperBound, (n + 1) * pixels)
                    SqueezeExcite.scaleRows(input, pixels: p..<end, channels: channels, scale: scalePtr + n * pc)
                    p = end
                }
            }
            conv.run(
                output: output, outputStride: outputStride, activation: .none, residual: residual,
                residualStride: residualStride, pool: pool)
        }
    }
}

extension PlanBuilder {
    /// The squeeze-excitation of a fused block (inputs `range` … `range + 3`: reduce W, b, expand W, b), once per
    /// session.
    func squeezeExcite(_ node: Node, inputs range: Int, channels: Int) throws -> SqueezeExcite? {
        guard let rw = node.input(range) else { return nil }
        let reduceShape = try constantShape(rw, node: node, reason: "SE reduce weights")
        let reduced = reduceShape.first ?? 0
        guard reduced > 0, reduceShape.reduce(1, *) == reduced * channels,
            let ew = node.input(range + 2),
            try constantShape(ew, node: node, reason: "SE expand weights").reduce(1, *) == reduced * channels
        else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "SE weights do not match \(channels) channels")
        }
        let rb = node.input(range + 1)
        let eb = node.input(range + 3)
        try checkCount(rb, node: node, what: "SE reduce bias", count: reduced)
        try checkCount(eb, node: node, what: "SE expand bias", count: channels)
        let act = try activation(node, "se_activation")
        let gate = try activation(node, "se_gate")
        let se: SqueezeExcite = try prepared(
            "squeeze-excite(\(act),\(gate))", [rw, rb, ew, eb], parameters: [Float(channels)]
        ) {
            SqueezeExcite(
                reduce: try packingInput(rw, node: node, reason: "SE reduce weights").floats,
                reduceBias: try floats(rb, node: node, what: "SE reduce bias", count: reduced)
                    ?? [Float](repeating: 0, count: reduced),
                expand: try packingInput(ew, node: node, reason: "SE expand weights").floats,
                expandBias: try floats(eb, node: node, what: "SE expand bias", count: channels)
                    ?? [Float](repeating: 0, count: channels),
                channels: channels, reduced: reduced, activation: act, gate: gate)
        }
        return se
    }

    /// A fused block's 1×1 convolution packed for the GEMM, once per session.
    func pointwise(_ node: Node, weight: String?, bias: String?, inputs: Int) throws -> PackedWeights? {
        guard let weight else { return nil }
        let shape = try constantShape(weight, node: node, reason: "1×1 weights")
        guard shape.count == 4, shape[0] > 0, shape[1] == inputs, shape[2] == 1, shape[3] == 1 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "1×1 weight shape \(shape) for \(inputs) inputs")
        }
        let packed: PackedWeights = try prepared("pointwise", [weight, bias]) {
            let w = try packingInput(weight, node: node, reason: "1×1 weights")
            return PackedWeights(
                convWeights: w.floats, shape: shape, bias: try floats(bias, node: node, what: "bias", count: shape[0]))
        }
        return packed
    }

    /// Arena scratch for the project weights scaled by SE (`SEStage.project`), when SE will scale the weights
    /// rather than the activations. A temporary of the block's step, so all blocks share the same arena bytes
    /// (a buffer per block was 30 MB for EfficientNetV2-S).
    func scaledProjectScratch(_ node: Node, se: SqueezeExcite?, project: PackedWeights?, pixels: Int) -> Int? {
        guard se != nil, let project, SqueezeExcite.site(pixels: pixels, outputs: project.outputs) == .weights else {
            return nil
        }
        return temporary(node.label + ".scaled", count: project.data.count)
    }

    /// MBConv: y = project(SE(act(dw(act(expand(x)))))) (+ x). Expand and project run through the GEMM, the
    /// depthwise kernel accumulates SE's channel sums, and the SE scale lands on the project's weights or input.
    func planMBConv(_ node: Node) throws {
        let x = node.inputs[0]
        let xs = try shape(of: x, node: node)
        guard xs.count == 4 else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "input rank \(xs.count)")
        }
        let (batch, cin, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let act = try activation(node, "activation")
        let expand = try pointwise(node, weight: node.input(1), bias: node.input(2), inputs: cin)
        let cexp = expand?.outputs ?? cin
        guard let dwName = node.input(3) else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "no depthwise weights")
        }
        let dwShape = try constantShape(dwName, node: node, reason: "depthwise weights")
        guard dwShape.count == 4, dwShape[0] == cexp, dwShape[1] == 1 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "depthwise weight shape \(dwShape)")
        }
        let dw = try depthwise(node, weight: dwName, bias: node.input(4), biasWhat: "dw bias")
        let attrs = try ConvAttributes(node: node, weightShape: dwShape, inputHW: (h, w))
        let dg = attrs.geometry(batch: batch, inChannels: cexp, outChannels: cexp, inputHW: (h, w))
        let se = try squeezeExcite(node, inputs: 5, channels: cexp)
        guard let project = try pointwise(node, weight: node.input(9), bias: node.input(10), inputs: cexp) else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "no project weights")
        }
        let cout = project.outputs
        let residual = node.int("residual") == 1
        if residual && (cout != cin || dg.outHeight != h || dg.outWidth != w) {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "residual with changing shape")
        }
        let input = try value(x, .nhwc, node: node)
        if expand != nil || se == nil, MBConvPipeline.applies(geometry: dg, expanded: expand != nil, threads: threads) {
            try planMBConvDepthFirst(
                node, input: input, expand: expand, dw: dw, geometry: dg, se: se, project: project, activation: act,
                residual: residual)
            return
        }
        let expanded = expand == nil ? input : temporary(node.label + ".expand", count: batch * h * w * cexp)
        let dwOut = temporary(node.label + ".dw", count: dg.outPixels * cexp)
        let output = newValue(node.outputs[0], shape: [batch, cout, dg.outHeight, dg.outWidth], layout: .nhwc)
        define(node.outputs[0], output)
        let pixels = dg.outHeight * dg.outWidth
        let scaledId = scaledProjectScratch(node, se: se, project: project, pixels: pixels)
        addStep(node.label, reads: [input], writes: [expanded, dwOut, output] + [scaledId].compactMap { $0 }) { b in
            let xp = b.pointer(input)
            let ep = b.pointer(expanded)
            let dp = b.pointer(dwOut)
            let yp = b.pointer(output)
            let expandConv = expand.map {
                DenseConv(
                    geometry: NHWCConvGeometry(
                        batch: batch, inHeight: h, inWidth: w, inChannels: cin, outChannels: cexp, kernel: (1, 1)),
                    weights: $0, input: xp, inputStride: cin)
            }
            let projectConv = DenseConv.mbConvProject(project, after: dg, input: dp)
            let stage = se.map { SEStage(se: $0, batch: batch, rows: batch * dg.outHeight) }
            let scaled = scaledId.map { b.pointer($0) }
            return { pool in
                expandConv?.run(output: ep, outputStride: cexp, activation: act, pool: pool)
                Depthwise.run(
                    input: ep, geometry: dg, weights: dw, output: dp, activation: act, seSums: stage?.sums.pointer,
                    seScratch: stage?.scratch.pointer, pool: pool)
                let res: UnsafePointer<Float>? = residual ? UnsafePointer(xp) : nil
                if let stage {
                    stage.computeScales(pixels: pixels)
                    stage.project(
                        projectConv, input: dp, pixels: pixels, output: yp, outputStride: cout, residual: res,
                        residualStride: cin, scaled: scaled, pool: pool)
                } else {
                    projectConv.run(
                        output: yp, outputStride: cout, activation: .none, residual: res, residualStride: cin,
                        pool: pool)
                }
            }
        }
    }

    /// MBConv through `MBConvPipeline` (a large expanded tensor, or no expansion and no SE): expand and depthwise
    /// depth-first in L2-sized bands per worker, then (no SE) the project on each band, or (SE) the scale and the
    /// project over the whole depthwise output as `planMBConv` does.
    private func planMBConvDepthFirst(
        _ node: Node, input: Int, expand: PackedWeights?, dw: DepthwiseWeights, geometry dg: NHWCConvGeometry,
        se: SqueezeExcite?, project: PackedWeights, activation act: KernelActivation, residual: Bool
    ) throws {
        let (batch, cexp, cout) = (dg.batch, dg.inChannels, project.outputs)
        let cin = expand?.inputChannels ?? cexp
        let pixels = dg.outHeight * dg.outWidth
        let output = newValue(node.outputs[0], shape: [batch, cout, dg.outHeight, dg.outWidth], layout: .nhwc)
        define(node.outputs[0], output)
        let perWorker = MBConvPipeline.scratchFloats(dg, expanded: expand != nil, projected: se == nil)
        let bands = temporary(node.label + ".bands", count: threads * perWorker)
        guard let se else {
            addStep(node.label, reads: [input], writes: [output, bands]) { b in
                let xp = b.pointer(input)
                return MBConvPipeline(
                    expand: expand, dw: dw, geometry: dg, input: xp, activation: act, project: project,
                    output: b.pointer(output), residual: residual ? UnsafePointer(xp) : nil, residualStride: cin,
                    seRowSums: nil, scratch: b.pointer(bands)
                ).run
            }
            return
        }
        let dwOut = temporary(node.label + ".dw", count: dg.outPixels * cexp)
        let scaledId = scaledProjectScratch(node, se: se, project: project, pixels: pixels)
        addStep(node.label, reads: [input], writes: [dwOut, output, bands] + [scaledId].compactMap { $0 }) { b in
            let xp = b.pointer(input)
            let dp = b.pointer(dwOut)
            let yp = b.pointer(output)
            let stage = SEStage(se: se, batch: batch, rows: batch * dg.outHeight)
            let pipeline = MBConvPipeline(
                expand: expand, dw: dw, geometry: dg, input: xp, activation: act, project: nil, output: dp,
                residual: nil, residualStride: 0, seRowSums: stage.scratch.pointer, scratch: b.pointer(bands))
            let projectConv = DenseConv.mbConvProject(project, after: dg, input: dp)
            let scaled = scaledId.map { b.pointer($0) }
            let res: UnsafePointer<Float>? = residual ? UnsafePointer(xp) : nil
            return { pool in
                pipeline.run(pool)
                Depthwise.addRowSums(
                    stage.scratch.pointer, into: stage.sums.pointer, geometry: dg, paddedChannels: se.paddedChannels)
                stage.computeScales(pixels: pixels)
                stage.project(
                    projectConv, input: dp, pixels: pixels, output: yp, outputStride: cout, residual: res,
                    residualStride: cin, scaled: scaled, pool: pool)
            }
        }
    }

    /// FusedMBConv: y = project(SE(act(conv_k×k(x)))) (+ x); without project, y = act(conv(x)) (+ x) in one GEMM.
    func planFusedMBConv(_ node: Node) throws {
        let x = node.inputs[0]
        let xs = try shape(of: x, node: node)
        guard xs.count == 4 else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "input rank \(xs.count)")
        }
        let (batch, cin, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let act = try activation(node, "activation")
        let wShape = try constantShape(node.inputs[1], node: node, reason: "conv weights")
        guard wShape.count == 4, wShape[0] > 0, wShape[1] == cin else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "conv weight shape \(wShape) for \(cin) inputs")
        }
        let attrs = try ConvAttributes(node: node, weightShape: wShape, inputHW: (h, w))
        let g = attrs.geometry(batch: batch, inChannels: cin, outChannels: wShape[0], inputHW: (h, w))
        let conv = try denseConv(g, node: node, weight: node.inputs[1], bias: node.input(2), biasWhat: "conv bias")
        let cmid = g.outChannels
        let se = try squeezeExcite(node, inputs: 3, channels: cmid)
        let project = try pointwise(node, weight: node.input(7), bias: node.input(8), inputs: cmid)
        let cout = project?.outputs ?? cmid
        let residual = node.int("residual") == 1
        if residual && (cout != cin || g.outHeight != h || g.outWidth != w) {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "residual with changing shape")
        }
        let input = try value(x, .nhwc, node: node)
        let output = newValue(node.outputs[0], shape: [batch, cout, g.outHeight, g.outWidth], layout: .nhwc)
        define(node.outputs[0], output)
        let threads = self.threads
        let pixels = g.outHeight * g.outWidth
        let convScratch = scratch(node.label + ".scratch", count: conv.scratchFloats)
        if let project, se == nil {
            // Depth-first: each block of pixels goes through the k×k conv into a per-worker buffer and straight
            // into the project GEMM, so the expanded activation (7 MB at V2-S stage 2) never leaves L2.
            let perWorker = FusedPipeline.scratchFloats(
                rows: conv.blockRows, cmid: cmid, cout: cout, winograd: conv.isWinograd)
            let blockScratch = temporary(node.label + ".blocks", count: threads * perWorker)
            addStep(node.label, reads: [input], writes: [output, blockScratch] + [convScratch].compactMap { $0 }) { b in
                let xp = b.pointer(input)
                let yp = b.pointer(output)
                return FusedPipeline(
                    conv: conv.bind(input: xp, scratch: convScratch.map { b.pointer($0) }), project: project,
                    cmid: cmid,
                    cout: cout, residual: residual ? UnsafePointer(xp) : nil, residualStride: cin, output: yp,
                    activation: act, threads: threads, scratch: b.pointer(blockScratch)
                ).run
            }
            return
        }
        let mid = project == nil && se == nil ? output : temporary(node.label + ".conv", count: g.outPixels * cmid)
        let scaledId = scaledProjectScratch(node, se: se, project: project, pixels: pixels)
        addStep(node.label, reads: [input], writes: [mid, output] + [scaledId, convScratch].compactMap { $0 }) { b in
            let xp = b.pointer(input)
            let mp = b.pointer(mid)
            let yp = b.pointer(output)
            let first = conv.bind(input: xp, scratch: convScratch.map { b.pointer($0) })
            let projectConv = project.map {
                DenseConv(
                    geometry: NHWCConvGeometry(
                        batch: batch, inHeight: g.outHeight, inWidth: g.outWidth, inChannels: cmid, outChannels: cout,
                        kernel: (1, 1)),
                    weights: $0, input: mp, inputStride: cmid)
            }
            let stage = se.map { SEStage(se: $0, batch: batch, rows: batch) }
            let scaled = scaledId.map { b.pointer($0) }
            let res: UnsafePointer<Float>? = residual ? UnsafePointer(xp) : nil
            return { pool in
                if projectConv == nil && stage == nil {
                    first(yp, cout, act, res, cin, pool)
                    return
                }
                first(mp, cmid, act, nil, 0, pool)
                if let stage {
                    let pc = stage.se.paddedChannels
                    let sums = stage.sums.pointer
                    pool.parallelFor(batch) { images, _ in
                        GlobalPool.average(
                            mp, batch: batch, pixels: pixels, channels: cmid, into: stage.scratch.pointer,
                            images: images)
                        for n in images {
                            for c in 0..<cmid { sums[n * pc + c] = stage.scratch.pointer[n * cmid + c] * Float(pixels) }
                        }
                    }
                    stage.computeScales(pixels: pixels)
                    if let projectConv {
                        stage.project(
                            projectConv, input: mp, pixels: pixels, output: yp, outputStride: cout, residual: res,
                            residualStride: cin, scaled: scaled, pool: pool)
                    } else {
                        for p in 0..<(batch * pixels) {
                            let n = p / pixels
                            for c in 0..<cout {
                                yp[p * cout + c] =
                                    mp[p * cout + c] * stage.scale.pointer[n * pc + c] + (res?[p * cin + c] ?? 0)
                            }
                        }
                    }
                } else if let projectConv {
                    projectConv.run(
                        output: yp, outputStride: cout, activation: .none, residual: res, residualStride: cin,
                        pool: pool)
                }
            }
        }
    }
}

// MARK: - Lowerings

extension MBConvOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planMBConv(node) } }
extension FusedMBConvOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planFusedMBConv(node) }
}
/// Squeeze-excitation outside a whole block: its standard nodes, planned one by one.
extension SqueezeExciteOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws {
        guard let body = node.graph("body") else {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "no 'body' sub-graph")
        }
        for inner in try body.sorted().nodes { try b.plan(inner) }
    }
}

extension DenseConv {
    /// An MBConv block's project: the 1×1 GEMM from the depthwise output (`dg`'s output pixels, `dg.inChannels`
    /// floats each) to `project.outputs` channels.
    static func mbConvProject(_ project: PackedWeights, after dg: NHWCConvGeometry, input: UnsafePointer<Float>)
        -> DenseConv
    {
        DenseConv(
            geometry: NHWCConvGeometry(
                batch: dg.batch, inHeight: dg.outHeight, inWidth: dg.outWidth, inChannels: dg.inChannels,
                outChannels: project.outputs, kernel: (1, 1)),
            weights: project, input: input, inputStride: dg.inChannels)
    }
}
