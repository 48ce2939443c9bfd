import IR

/// One pass over a graph's convolutions, summarizing each, then a parse of the conv sequence into blocks.
struct ConvScan {
    struct ConvInfo {
        var node: Node
        /// The data input, traced back through Pad / Identity / Dropout: the value the block hands over.
        var source: String
        var weight: Tensor
        var bias: Tensor?
        var norm: [Tensor]?
        var epsilon: Float?
        var activation: String
        /// The value after BatchNorm and activation.
        var output: String
        var group: Int
        var stride: Int
        var kernel: Int
        var isSE: Bool
        var samePadded: Bool

        var outChannels: Int { weight.shape[0] }
        var inChannels: Int { weight.shape[1] * group }
        var isDepthwise: Bool { group > 1 && group == weight.shape[0] && weight.shape[1] == 1 }
    }

    let graph: Graph
    let producers: [String: Int]
    let consumers: [String: [Int]]
    var convs = [ConvInfo]()

    init(_ graph: Graph) throws {
        self.graph = graph
        producers = graph.producers
        consumers = graph.consumers
        for node in graph.nodes where isConv(node) { convs.append(try summarize(node)) }
        // The SE expand conv reads the reduce conv's activation, not a pooled value: mark it too.
        let reduced = Set(convs.filter(\.isSE).map(\.output))
        for i in convs.indices where reduced.contains(convs[i].source) { convs[i].isSE = true }
    }

    private func isConv(_ n: Node) -> Bool {
        (n.opType == "Conv" && (n.domain.isEmpty || n.domain == "ai.onnx"))
            || (n.opType == "FusedConv" && n.domain == OpSupport.effnetDomain)
    }

    private func producer(_ value: String) -> Node? { producers[value].map { graph.nodes[$0] } }

    /// A constant value: initializer, `Constant` node, or either behind `Identity` (TorchScript shares weights so).
    func constant(_ value: String) -> Tensor? {
        if let t = graph.initializers[value] { return t }
        guard let n = producer(value) else { return nil }
        if n.opType == "Identity" { return constant(n.inputs[0]) }
        return ConstantOp.tensor(of: n)
    }

    /// Follows a value back through ops that do not change it for our purpose.
    func trace(_ value: String, through ops: Set<String>) -> String {
        var v = value
        while let n = producer(v), ops.contains(n.opType), let first = n.input(0) { v = first }
        return v
    }

    private func summarize(_ node: Node) throws -> ConvInfo {
        guard let w = node.input(1), let weight = constant(w) else {
            throw GraphRecognitionError.nonConstantWeight(node: node.label, value: node.input(1) ?? "")
        }
        guard weight.rank == 4 else {
            throw GraphRecognitionError.notEfficientNetV2(
                node: node.label, reason: "conv weight of rank \(weight.rank)")
        }
        var bias: Tensor?
        if let b = node.input(2) {
            guard let t = constant(b) else { throw GraphRecognitionError.nonConstantWeight(node: node.label, value: b) }
            bias = t.converted(to: .float32)
        }
        let group = node.int("group") ?? 1
        let stride = node.ints("strides")?.first ?? 1
        let data = node.inputs[0]
        let padded: Bool = {
            if let mode = node.string("auto_pad"), mode.hasPrefix("SAME") { return true }
            if let p = node.ints("pads"), p.count == 4, p[0] != p[2] || p[1] != p[3] { return true }
            return producer(trace(data, through: ["Identity", "Cast"]))?.opType == "Pad"
        }()
        let pooled = producer(trace(data, through: ["Identity", "Reshape", "Flatten", "Unsqueeze", "Squeeze", "Cast"]))
        let isSE = pooled.map { $0.opType == "GlobalAveragePool" || $0.opType == "ReduceMean" } ?? false
        // BatchNormalization as the conv's only consumer.
        var output = node.outputs[0]
        var norm: [Tensor]?
        var epsilon: Float?
        if let users = consumers[output], users.count == 1 {
            let bn = graph.nodes[users[0]]
            if bn.opType == "BatchNormalization", bn.inputs.count >= 5,
                let params = Optional(bn.inputs[1...4].compactMap { constant($0)?.converted(to: .float32) }),
                params.count == 4
            {
                norm = params
                epsilon = bn.float("epsilon") ?? 1e-5
                output = bn.outputs[0]
            }
        }
        var activation = "none"
        if node.opType == "FusedConv" {
            activation = node.string("activation") ?? "none"
        } else {
            (activation, output) = self.activation(after: output)
        }
        return ConvInfo(
            node: node, source: trace(data, through: ["Pad", "Identity", "Dropout"]),
            weight: weight.converted(to: .float32), bias: bias, norm: norm, epsilon: epsilon, activation: activation,
            output: output, group: group, stride: stride, kernel: weight.shape[2], isSE: isSE, samePadded: padded)
    }

    /// SiLU after `value` (Sigmoid + Mul of the same value, or effnet's `Silu`), or a plain activation op.
    func activation(after value: String) -> (String, String) {
        let users = (consumers[value] ?? []).map { graph.nodes[$0] }
        if let silu = users.first(where: { $0.opType == "Silu" && $0.domain == OpSupport.effnetDomain }) {
            return ("silu", silu.outputs[0])
        }
        for sigmoid in users where sigmoid.opType == "Sigmoid" {
            let s = sigmoid.outputs[0]
            if let mul = users.first(where: { $0.opType == "Mul" && Set($0.inputs) == [value, s] }) {
                return ("silu", mul.outputs[0])
            }
        }
        if users.count == 1, users[0].opType == "Clip", users[0].domain.isEmpty, clipBounds(users[0]) == [0, 6] {
            return ("relu6", users[0].outputs[0])
        }
        if users.count == 1, ["Relu", "HardSwish", "Sigmoid"].contains(users[0].opType) {
            return (users[0].opType.lowercased(), users[0].outputs[0])
        }
        return ("none", value)
    }

    /// A Clip's constant [min, max] (inputs from op set 11, attributes before); nil when either is not constant.
    func clipBounds(_ clip: Node) -> [Double]? {
        if clip.inputs.count > 1 {
            // An initializer, or a Constant node (what torch.onnx.export writes for ReLU6's bounds).
            func constant(_ v: String) -> Double? {
                if let t = graph.initializers[v] { return t.doubles.first }
                guard let n = producer(trace(v, through: ["Identity", "Cast"])), let t = ConstantOp.tensor(of: n) else {
                    return nil
                }
                return t.doubles.first
            }
            guard clip.inputs.count == 3, let lo = constant(clip.inputs[1]), let hi = constant(clip.inputs[2])
            else { return nil }
            return [lo, hi]
        }
        guard let lo = clip.float("min"), let hi = clip.float("max") else { return nil }
        return [Double(lo), Double(hi)]
    }

    /// The SE excitation output: `x · gate(conv_expand)`, the Mul fed by the gate of `expand`.
    func excitation(after expand: ConvInfo) -> String? {
        for g in consumers[expand.output] ?? [] where ["Sigmoid", "HardSigmoid"].contains(graph.nodes[g].opType) {
            let gate = graph.nodes[g].outputs[0]
            for m in consumers[gate] ?? [] where graph.nodes[m].opType == "Mul" { return graph.nodes[m].outputs[0] }
        }
        return nil
    }

    /// The residual Add reading both `value` and `input`, if any.
    func residual(of value: String, input: String) -> String? {
        for a in consumers[value] ?? [] {
            let n = graph.nodes[a]
            if n.opType == "Add", n.inputs.count == 2,
                Set(n.inputs.map { trace($0, through: ["Identity", "Dropout"]) }) == [value, input]
            {
                return n.outputs[0]
            }
        }
        return nil
    }

    /// Gemm (any `transB`) or MatMul (+ Add) with constant weights, as `[out, in]` and bias.
    func classifier() throws -> (weight: Tensor, bias: Tensor)? {
        for node in graph.nodes.reversed() {
            switch node.opType {
            case "Gemm":
                guard let b = node.input(1), let w = constant(b)?.converted(to: .float32), w.rank == 2 else { continue }
                let alpha = node.float("alpha") ?? 1
                let beta = node.float("beta") ?? 1
                guard (node.int("transA") ?? 0) == 0, alpha == 1, beta == 1 else {
                    throw GraphRecognitionError.notEfficientNetV2(
                        node: node.label, reason: "Gemm with transA/alpha/beta")
                }
                let weight = (node.int("transB") ?? 0) == 1 ? w : w.permuted([1, 0])
                let bias =
                    node.input(2).flatMap { constant($0)?.converted(to: .float32) }
                    ?? .zeros(.float32, shape: [weight.shape[0]])
                return (weight, bias.reshaped([weight.shape[0]]))
            case "MatMul":
                guard let b = node.input(1), let w = constant(b)?.converted(to: .float32), w.rank == 2 else { continue }
                let weight = w.permuted([1, 0])
                var bias = Tensor.zeros(.float32, shape: [weight.shape[0]])
                if let users = consumers[node.outputs[0]], users.count == 1, graph.nodes[users[0]].opType == "Add",
                    let other = graph.nodes[users[0]].inputs.first(where: { $0 != node.outputs[0] }),
                    let t = constant(other), t.count == weight.shape[0]
                {
                    bias = t.converted(to: .float32).reshaped([weight.shape[0]])
                }
                return (weight, bias)
            default: continue
            }
        }
        return nil
    }
}
