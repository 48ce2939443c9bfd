import IR

/// Choices the weights leave open when building a graph.
public struct BuildOptions: Hashable, Sendable {
    /// How TF "SAME" convolutions with stride 2 are padded (stride-1 odd kernels get their fixed symmetric pads).
    public enum SamePadding: Hashable, Sendable {
        /// `auto_pad = SAME_UPPER`: valid at any input size, the TF rule carried by the graph itself.
        case autoPad
        /// Static asymmetric `pads` computed for `inputSize`; only valid at that size.
        case explicit
    }

    /// Square input size; the architecture's evaluation size when nil.
    public var inputSize: Int?
    public var samePadding: SamePadding
    public var batch: Dim

    public init(inputSize: Int? = nil, samePadding: SamePadding = .autoPad, batch: Dim = .symbol("N")) {
        self.inputSize = inputSize
        self.samePadding = samePadding
        self.batch = batch
    }
}

/// Builds an ONNX-semantics graph (op set 17) from a checkpoint.
///
/// The graph is the frameworks' forward pass written in plain ONNX: Conv (OIHW) → explicit BatchNormalization
/// (folding is the optimizer's job) → SiLU as Sigmoid + Mul; SE as GlobalAveragePool → Conv → SiLU → Conv →
/// Sigmoid → Mul; residual Add; head Conv → BN → SiLU → GlobalAveragePool → Flatten → Gemm. Keras models take
/// NHWC 0…255 pixels: a Transpose to NCHW, the in-model preprocessing as Mul/Add or Mul/Sub/Div, and a final
/// Softmax. The input is `input` `[N, 3, S, S]` (Keras `[N, S, S, 3]`), the output `output`.
public enum GraphBuilder {
    public static let opset = 17

    /// Detects the checkpoint (or uses `architecture`), checks it strictly and builds its graph.
    public static func build(
        _ checkpoint: Checkpoint, architecture: Architecture? = nil, options: BuildOptions = BuildOptions()
    ) throws -> (Graph, DetectedModel) {
        let detected = try ArchitectureDetector.detect(checkpoint, architecture: architecture)
        let weights = try ModelWeights(checkpoint, detection: detected)
        var arch = detected.architecture
        if let stats = kerasStatistics(checkpoint), case .rescaleNormalize(let scale, _, _) = arch.preprocessing {
            arch.preprocessing = .rescaleNormalize(scale: scale, mean: stats.mean, variance: stats.variance)
        }
        let graph = try build(structure: detected.structure, weights: weights, architecture: arch, options: options)
        return (graph, detected)
    }

    /// The graph of `structure` with `weights` (canonical names), using `architecture` for strides, padding,
    /// epsilon, input size, layout, preprocessing and output activation.
    public static func build(
        structure: NetworkStructure, weights: ModelWeights, architecture arch: Architecture,
        options: BuildOptions = BuildOptions()
    ) throws -> Graph {
        var g = GraphEmitter(
            weights: weights, padding: arch.padding, samePadding: options.samePadding, epsilon: arch.batchNormEpsilon,
            activation: arch.activation)
        let size = options.inputSize ?? arch.inputSize
        var spatial: Int? = size
        let c = structure.inputChannels
        let inputShape: Shape =
            arch.channelsLast
            ? [options.batch, .known(size), .known(size), .known(c)]
            : [options.batch, .known(c), .known(size), .known(size)]
        var x = "input"
        if arch.channelsLast {
            x = g.node("input.nchw", "Transpose", [x], attributes: ["perm": .ints([0, 3, 1, 2])])
        }
        x = preprocess(&g, x, arch.preprocessing, channels: c)

        let layers = structure.layers
        var names = [Int: [LayerRole: String]]()
        for l in layers { if let b = l.block { names[b, default: [:]][l.role] = l.name } }

        x = try g.convNormAct(
            conv: "conv_stem", norm: "bn1", x, kernel: structure.stemKernel, stride: structure.stemStride, act: true,
            size: &spatial)
        for (i, b) in structure.blocks.enumerated() {
            x = try block(&g, x, b, names: names[i]!, size: &spatial)
        }
        x = try g.convNormAct(conv: "conv_head", norm: "bn2", x, kernel: 1, stride: 1, act: true, size: &spatial)
        x = g.node("global_pool", "GlobalAveragePool", [x])
        var outputShape: Shape = [options.batch, .known(structure.headChannels)]
        if let classes = structure.numClasses {
            x = g.node("flatten", "Flatten", [x], attributes: ["axis": .int(1)])
            let w = try g.weight("classifier.weight")
            let bias = try g.weight("classifier.bias")
            let last = arch.softmaxOutput ? "classifier" : "output"
            g.nodes.append(
                Node(
                    name: "classifier", opType: "Gemm", inputs: [x, w, bias], outputs: [last],
                    attributes: ["transB": .int(1)]))
            x = last
            if arch.softmaxOutput {
                g.nodes.append(
                    Node(
                        name: "softmax", opType: "Softmax", inputs: [x], outputs: ["output"],
                        attributes: ["axis": .int(-1)]))
            }
            outputShape = [options.batch, .known(classes)]
        } else {
            g.nodes.append(
                Node(
                    name: "flatten", opType: "Flatten", inputs: [x], outputs: ["output"], attributes: ["axis": .int(1)])
            )
        }
        let graph = Graph(
            name: arch.name, nodes: g.nodes, inputs: [ValueInfo(name: "input", dtype: .float32, shape: inputShape)],
            outputs: [ValueInfo(name: "output", dtype: .float32, shape: outputShape)], initializers: g.initializers)
        try graph.validate()
        return graph
    }

    private static func block(
        _ g: inout GraphEmitter, _ input: String, _ b: BlockSpec, names: [LayerRole: String], size: inout Int?
    ) throws -> String {
        var x = input
        switch b.kind {
        case .fusedMBConv:
            x = try g.convNormAct(
                conv: names[.fusedConv]!, norm: names[.fusedNorm]!, x, kernel: b.kernel, stride: b.stride, act: true,
                size: &size)
            if b.seChannels != nil { x = try g.squeezeExcite(b.path + ".se", x) }
            if b.hasProjection {
                x = try g.convNormAct(
                    conv: names[.projectConv]!, norm: names[.projectNorm]!, x, kernel: 1, stride: 1, act: false,
                    size: &size)
            }
        case .mbconv:
            if b.hasExpansion {
                x = try g.convNormAct(
                    conv: names[.expandConv]!, norm: names[.expandNorm]!, x, kernel: 1, stride: 1, act: true,
                    size: &size)
            }
            x = try g.convNormAct(
                conv: names[.depthwiseConv]!, norm: names[.depthwiseNorm]!, x, kernel: b.kernel, stride: b.stride,
                group: b.midChannels, act: true, size: &size)
            if b.seChannels != nil { x = try g.squeezeExcite(b.path + ".se", x) }
            x = try g.convNormAct(
                conv: names[.projectConv]!, norm: names[.projectNorm]!, x, kernel: 1, stride: 1, act: false, size: &size
            )
        }
        if b.hasResidual { x = g.node(b.path + ".add", "Add", [x, input]) }
        return x
    }

    /// Keras in-model preprocessing, in Keras's own float32 operation order: `x · scale + offset`;
    /// `(x · scale − mean) / max(√variance, 1e-7)`.
    private static func preprocess(
        _ g: inout GraphEmitter, _ input: String, _ p: InModelPreprocessing, channels: Int
    ) -> String {
        switch p {
        case .none:
            return input
        case .rescale(let scale, let offset):
            let s = g.constant("preprocess.scale", .scalar(scale))
            var x = g.node("preprocess.rescale", "Mul", [input, s])
            if offset != 0 {
                let o = g.constant("preprocess.offset", .scalar(offset))
                x = g.node("preprocess.add_offset", "Add", [x, o])
            }
            return x
        case .rescaleNormalize(let scale, let mean, let variance):
            let s = g.constant("preprocess.scale", .scalar(scale))
            var x = g.node("preprocess.rescale", "Mul", [input, s])
            let m = g.constant("preprocess.mean", Tensor(shape: [1, channels, 1, 1], floats: fit(mean, channels)))
            let std = fit(variance, channels).map { max($0.squareRoot(), 1e-7) }
            let d = g.constant("preprocess.std", Tensor(shape: [1, channels, 1, 1], floats: std))
            x = g.node("preprocess.sub_mean", "Sub", [x, m])
            return g.node("preprocess.div_std", "Div", [x, d])
        }
    }

    /// Per-channel statistics for `channels` inputs (a single value broadcasts).
    private static func fit(_ values: [Float], _ channels: Int) -> [Float] {
        values.count == channels ? values : Array(repeating: values.first ?? 0, count: channels)
    }

    /// Adapted Keras `Normalization` statistics, when the checkpoint carries them.
    static func kerasStatistics(_ checkpoint: Checkpoint) -> (mean: [Float], variance: [Float])? {
        let mean = checkpoint.names.first { $0.hasPrefix("normalization") && $0.hasSuffix("/mean") }
        let variance = checkpoint.names.first { $0.hasPrefix("normalization") && $0.hasSuffix("/variance") }
        guard let mean, let variance else { return nil }
        return (checkpoint[mean]!.floats, checkpoint[variance]!.floats)
    }

    /// An ONNX model around `graph` with op set 17 and metadata a runner can use for preprocessing:
    /// `effnet.architecture`, `effnet.scheme`, `effnet.input_size`, `effnet.mean`, `effnet.std`,
    /// `effnet.crop_pct`, `effnet.interpolation`, `effnet.layout`.
    public static func model(_ graph: Graph, detected: DetectedModel) -> Model {
        let a = detected.architecture
        let list = { (v: [Float]) in v.map { String($0) }.joined(separator: ",") }
        return Model(
            graph: graph, irVersion: 8, opsets: ["": opset], producerName: "effnet",
            docString: "\(a.family.rawValue) \(detected.summary) built from a \(detected.scheme) checkpoint",
            metadata: [
                "effnet.architecture": a.name, "effnet.scheme": detected.scheme.rawValue,
                "effnet.input_size": String(a.inputSize), "effnet.mean": list(a.normalization.mean),
                "effnet.std": list(a.normalization.std), "effnet.crop_pct": String(a.cropPct),
                "effnet.interpolation": a.interpolation, "effnet.layout": a.channelsLast ? "NHWC" : "NCHW",
            ])
    }
}
