import IR

/// Folds inference-mode BatchNormalization into the Conv or Gemm before it, or turns a lone one into Mul + Add.
///
/// BN(y) = γ·(y − μ)/√(σ² + ε) + β = s·y + (β − μ·s) with s = γ/√(σ² + ε), per channel c (axis 1).
/// - After `y = Conv(x, W, b)`: W'[c] = W[c]·s[c], b'[c] = (b[c] − μ[c])·s[c] + β[c] (b = 0 when absent).
/// - After `y = Gemm(A, B, C)` (features on axis 1 of y): B's output column c (row c when `transB`) scaled by s[c],
///   α kept, C' = (β_gemm·C − μ)·s + β with β_gemm set to 1.
/// - Otherwise: `Mul(x, s)` then `Add(·, β − μ·s)` with s and the shift shaped [C, 1, …, 1] to broadcast over the
///   spatial axes (needs x's rank from shape inference).
/// Arithmetic in Double, stored in the weight's dtype. Precondition: the conv/gemm output feeds only the BN, and
/// all BN parameters and the weights are constants. Shared weight initializers are copied, not changed in place.
///
/// The scaled weights are made after the rewrite, one at a time, each replacing its original as soon as it exists:
/// made during the matching loop (while the snapshot the rewriter reads still holds every original) they all
/// coexisted with the originals, twice the model's weights at once (85 MB more for EfficientNetV2-S).
public struct FoldBatchNorm: GraphPass {
    public let name = "fold-batchnorm"
    public init() {}

    /// A weight to scale once the rewrite is applied: `source`'s output channels multiplied by `scale`, stored as
    /// `target` (the same name when only the folded node read it).
    struct ScaledWeight {
        var source: String
        var target: String
        var scale: [Double]
        /// Gemm B with `transB` = 0: output channels are columns, not rows.
        var columns = false
    }

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var newInitializers = [String: Tensor]()
        var scaledWeights = [ScaledWeight]()
        var intoConv = 0
        var intoGemm = 0
        var lone = 0
        // A scope of its own, so that the rewriter's snapshot of the graph is gone before the weights are scaled.
        do {
            var rewriter = Rewriter(graph)
            var taken = graph.allValueNames
            let useCounts = Self.initializerUses(graph)
            for (i, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty {
                guard
                    bn.outputs.count == 1
                        || bn.outputs.dropFirst().allSatisfy({ $0.isEmpty || rewriter.uses($0) == 0 }),
                    bn.inputs.count >= 5,
                    let gamma = graph.constant(bn.inputs[1])?.doubles, let beta = graph.constant(bn.inputs[2])?.doubles,
                    let mean = graph.constant(bn.inputs[3])?.doubles,
                    let variance = graph.constant(bn.inputs[4])?.doubles
                else { continue }
                let eps = Double(bn.float("epsilon") ?? 1e-5)
                let c = gamma.count
                guard beta.count == c, mean.count == c, variance.count == c else { continue }
                let scale = (0..<c).map { (k: Int) -> Double in gamma[k] / (variance[k] + eps).squareRoot() }
                let shift = (0..<c).map { (k: Int) -> Double in beta[k] - mean[k] * scale[k] }

                if let (p, producer) = rewriter.producerNode(bn.inputs[0]),
                    rewriter.soleConsumer(bn.inputs[0])?.index == i,
                    !rewriter.isClaimed([p]), producer.domain.isEmpty
                {
                    if producer.opType == "Conv", let w = graph.constant(producer.inputs[1]), w.shape.first == c {
                        let b =
                            producer.input(2).flatMap { graph.constant($0)?.doubles }
                            ?? [Double](repeating: 0, count: c)
                        let bv = (0..<c).map { (k: Int) -> Double in (b[k] - mean[k]) * scale[k] + beta[k] }
                        var conv = producer
                        let wName = Self.name(
                            for: producer.inputs[1], uses: useCounts, fallback: "\(bn.outputs[0]).weight",
                            taken: &taken, graph: graph)
                        let bName =
                            producer.input(2).map {
                                Self.name(
                                    for: $0, uses: useCounts, fallback: "\(bn.outputs[0]).bias", taken: &taken,
                                    graph: graph)
                            } ?? graph.freshName("\(bn.outputs[0]).bias", avoiding: &taken)
                        scaledWeights.append(ScaledWeight(source: producer.inputs[1], target: wName, scale: scale))
                        newInitializers[bName] = Tensor(dtype: w.dtype, shape: [c], values: bv)
                        conv.inputs = [producer.inputs[0], wName, bName]
                        conv.outputs = [bn.outputs[0]]
                        rewriter.replace([p, i], with: [conv])
                        intoConv += 1
                        continue
                    }
                    if producer.opType == "Gemm", let bT = graph.constant(producer.inputs[1]), bT.rank == 2 {
                        let transB = (producer.int("transB") ?? 0) != 0
                        let n = transB ? bT.shape[0] : bT.shape[1]
                        if n == c {
                            let gemmBeta = Double(producer.float("beta") ?? 1)
                            var cv = [Double](repeating: 0, count: c)
                            if let cName = producer.input(2), let ct = graph.constant(cName) {
                                let raw = ct.doubles
                                guard raw.count == c || raw.count == 1 else { continue }
                                cv = (0..<c).map { raw.count == 1 ? raw[0] : raw[$0] }
                            }
                            let newC = (0..<c).map { (k: Int) -> Double in (gemmBeta * cv[k] - mean[k]) * scale[k] + beta[k] }
                            var gemm = producer
                            let wName = Self.name(
                                for: producer.inputs[1], uses: useCounts, fallback: "\(bn.outputs[0]).weight",
                                taken: &taken, graph: graph)
                            let cName = graph.freshName("\(bn.outputs[0]).bias", avoiding: &taken)
                            scaledWeights.append(
                                ScaledWeight(source: producer.inputs[1], target: wName, scale: scale, columns: !transB))
                            newInitializers[cName] = Tensor(dtype: bT.dtype, shape: [c], values: newC)
                            gemm.inputs = [producer.inputs[0], wName, cName]
                            gemm.attributes["beta"] = .float(1)
                            gemm.outputs = [bn.outputs[0]]
                            rewriter.replace([p, i], with: [gemm])
                            intoGemm += 1
                            continue
                        }
                    }
                }
                // Lone BatchNormalization: a per-channel scale and shift.
                guard
                    let rank = graph.valueInfo[bn.inputs[0]]?.shape?.count
                        ?? graph.info(of: bn.inputs[0])?.shape?.count,
                    rank >= 2
                else { continue }
                let broadcast = [c] + [Int](repeating: 1, count: rank - 2)
                let dtype = graph.constant(bn.inputs[1])!.dtype
                let sName = graph.freshName("\(bn.outputs[0]).scale", avoiding: &taken)
                let tName = graph.freshName("\(bn.outputs[0]).shift", avoiding: &taken)
                let mid = graph.freshName("\(bn.outputs[0]).scaled", avoiding: &taken)
                newInitializers[sName] = Tensor(dtype: dtype, shape: broadcast, values: scale)
                newInitializers[tName] = Tensor(dtype: dtype, shape: broadcast, values: shift)
                let label = bn.name.isEmpty ? bn.outputs[0] : bn.name
                rewriter.replace(
                    [i],
                    with: [
                        Node(name: label + "/scale", opType: "Mul", inputs: [bn.inputs[0], sName], outputs: [mid]),
                        Node(name: label + "/shift", opType: "Add", inputs: [mid, tName], outputs: [bn.outputs[0]]),
                    ])
                lone += 1
            }
            graph = rewriter.apply()
        }
        for (k, v) in newInitializers { graph.initializers[k] = v }
        for weight in scaledWeights {
            // Sources are initializers or Constant outputs; a Constant replaced by a rewrite is still in the graph
            // (the pass does not remove nodes it did not match).
            guard let source = graph.constant(weight.source) else { continue }
            graph.initializers[weight.target] = Self.scaled(source, by: weight.scale, columns: weight.columns)
        }
        let total = intoConv + intoGemm + lone
        guard total > 0 else { return .unchanged }
        var parts = ["folded \(intoConv) BatchNormalization into Conv"]
        if intoGemm > 0 { parts.append("\(intoGemm) into Gemm") }
        if lone > 0 { parts.append("\(lone) into Mul+Add") }
        return PassResult(changes: total, summary: parts.joined(separator: ", "))
    }

    /// `w` with output channel o (the first axis, or the last when `columns`) multiplied by `scale[o]`, in Double.
    static func scaled(_ w: Tensor, by scale: [Double], columns: Bool) -> Tensor {
        var values = w.doubles
        let c = scale.count
        if columns {
            for i in values.indices { values[i] *= scale[i % c] }
        } else {
            let perChannel = values.count / c
            for o in 0..<c { for k in 0..<perChannel { values[o * perChannel + k] *= scale[o] } }
        }
        return Tensor(dtype: w.dtype, shape: w.shape, values: values)
    }

    /// How many node inputs read each initializer.
    static func initializerUses(_ graph: Graph) -> [String: Int] {
        var uses = [String: Int]()
        for node in graph.nodes {
            for input in node.inputs where graph.initializers[input] != nil { uses[input, default: 0] += 1 }
        }
        return uses
    }

    /// The initializer's own name when only this node reads it (it can be replaced in place), else a fresh one.
    static func name(
        for initializer: String, uses: [String: Int], fallback: String, taken: inout Set<String>, graph: Graph
    ) -> String {
        if graph.initializers[initializer] != nil, uses[initializer] == 1,
            !graph.outputs.contains(where: { $0.name == initializer })
        {
            return initializer
        }
        return graph.freshName(fallback, avoiding: &taken)
    }
}
