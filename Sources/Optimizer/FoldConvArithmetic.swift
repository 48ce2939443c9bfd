import IR

/// Folds per-channel arithmetic after a convolution into its weights and bias: BatchNorm written out by an
/// exporter as `(y − μ)·γ/√(σ² + ε) + β` (Keras: Sub, Mul, Add; any order, any mix of Add/Sub/Mul/Div).
///
/// Algebra: the chain keeps y' = s·y + t per output channel c, starting from s = 1, t = 0, and for a constant k
/// (a scalar or per-channel: shape [C], [C,1,1] or [1,C,1,1] against the conv's [N,C,H,W]):
/// `Add k`: t += k; `Sub k` (y − k): t −= k; `Sub` (k − y): s = −s, t = k − t; `Mul k`: s ·= k, t ·= k;
/// `Div k` (y / k): s /= k, t /= k. Then W'[c] = s[c]·W[c] and b'[c] = s[c]·b[c] + t[c] (b = 0 when absent).
/// Arithmetic in Double, stored in the weight's dtype (float32 rounding: at most a few ulps from the unfolded
/// graph). Preconditions: W, b and every k are constants; each value in the chain is read only by the next step.
/// Per-channel constants must have the conv's channel count (rank 1 constants broadcast over the last axis, so
/// only the channels-first shapes above, or `sink-transposes`' output, qualify).
public struct FoldConvArithmetic: GraphPass {
    public let name = "fold-conv-arithmetic"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var taken = graph.allValueNames
        var extra = [String: Tensor]()
        var folded = 0
        var steps = 0
        for (i, conv) in graph.nodes.enumerated() where conv.opType == "Conv" && conv.domain.isEmpty {
            guard let w = graph.constant(conv.inputs[1]), w.rank == 4, !rewriter.isClaimed([i]) else { continue }
            let c = w.shape[0]
            var s = [Double](repeating: 1, count: c)
            var t = [Double](repeating: 0, count: c)
            var chain = [Int]()
            var cursor = conv.outputs[0]
            while let (j, op) = rewriter.soleConsumer(cursor), op.domain.isEmpty, op.inputs.count == 2,
                ["Add", "Sub", "Mul", "Div"].contains(op.opType), !rewriter.isClaimed([j])
            {
                let side = op.inputs[0] == cursor ? 1 : 0
                guard op.inputs[1 - side] == cursor, op.inputs[side] != cursor,
                    let k = graph.constant(op.inputs[side]), let kv = Self.perChannel(k, channels: c)
                else { break }
                switch (op.opType, side) {
                case ("Add", _): for o in 0..<c { t[o] += kv[o] }
                case ("Sub", 1): for o in 0..<c { t[o] -= kv[o] }
                case ("Sub", _): for o in 0..<c { s[o] = -s[o]; t[o] = kv[o] - t[o] }
                case ("Mul", _): for o in 0..<c { s[o] *= kv[o]; t[o] *= kv[o] }
                case ("Div", 1): for o in 0..<c { s[o] /= kv[o]; t[o] /= kv[o] }
                default: break
                }
                if op.opType == "Div" && side == 0 { break }
                chain.append(j)
                cursor = op.outputs[0]
            }
            guard !chain.isEmpty else { continue }
            let b = conv.input(2).flatMap { graph.constant($0)?.doubles } ?? [Double](repeating: 0, count: c)
            guard b.count == c else { continue }
            let wName = graph.freshName(conv.inputs[1] + ".folded", avoiding: &taken)
            let bName = graph.freshName(conv.inputs[1] + ".folded_bias", avoiding: &taken)
            extra[wName] = FoldBatchNorm.scaled(w, by: s, columns: false)
            extra[bName] = Tensor(dtype: w.dtype, shape: [c], values: (0..<c).map { (k: Int) -> Double in s[k] * b[k] + t[k] })
            var folded_ = conv
            folded_.inputs = [conv.inputs[0], wName, bName]
            folded_.outputs = [cursor]
            rewriter.replace([i] + chain, with: [folded_])
            folded += 1
            steps += chain.count
        }
        guard folded > 0 else { return .unchanged }
        graph = rewriter.apply()
        for (k, v) in extra { graph.initializers[k] = v }
        _ = try EliminateDeadCode().run(&graph, context: context)
        return PassResult(changes: folded, summary: "folded \(steps) arithmetic steps into \(folded) Conv")
    }

    /// k's values per output channel when k broadcasts per channel (or is a scalar) against [N, C, H, W].
    static func perChannel(_ k: Tensor, channels c: Int) -> [Double]? {
        guard k.dtype.isFloatingPoint else { return nil }
        if k.count == 1 { return [Double](repeating: k.doubles[0], count: c) }
        guard k.count == c, k.rank >= 3, k.rank <= 4 else { return nil }
        let padded = [Int](repeating: 1, count: 4 - k.rank) + k.shape
        guard padded == [1, c, 1, 1] else { return nil }
        return k.doubles
    }
}
