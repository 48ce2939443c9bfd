import IR

/// Rewrites a squeeze-excitation computed on the pooled vector (Keras Dense layers, or a PyTorch `nn.Linear` SE):
/// ReduceMean(x, H and W, keepdims = 0) → MatMul / Gemm (+ Add bias) → activation → MatMul / Gemm (+ Add) →
/// gate → Reshape / Unsqueeze to [N, C, 1, 1] into the 1×1-convolution form the SE fusion reads.
///
/// Algebra: a [N, C] value v is carried as v' = v reshaped to [N, C, 1, 1] ("lifted"). Then ReduceMean with
/// keepdims = 1 gives v'; v·W (W: [C, R]) is Conv(v', Wᵀ as [R, C, 1, 1]); Gemm(v, B, c) with α = β = 1 is the same
/// with B (or Bᵀ when transB) and bias c; v ⊙ k for a constant k of shape [R], [1, R] or a scalar is v' ⊙ k reshaped
/// to [R, 1, 1]; unary activations and v ⊙ w of two lifted values act elementwise; and the final reshape to
/// [N, C, 1, 1] is v' itself. The rewrite is all or nothing per pooled value: every reader of every lifted value
/// must be one of those steps, else the graph is left as it is. `fold-conv-arithmetic` then folds the bias Adds.
public struct SqueezeExcitationAsConv: GraphPass {
    public let name = "squeeze-excitation-as-conv"
    public init() {}

    static let unary: Set<String> = ["Sigmoid", "Relu", "HardSigmoid", "HardSwish", "Clip", "Identity"]
    static let binary: Set<String> = ["Add", "Sub", "Mul", "Div"]

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var lifted = 0
        while try liftOne(&graph, context: context) { lifted += 1 }
        return lifted == 0
            ? .unchanged : PassResult(changes: lifted, summary: "rewrote \(lifted) pooled-vector SE as 1×1 Conv")
    }

    /// Lifts the first pooled value that can be lifted; false when none can.
    func liftOne(_ graph: inout Graph, context: PassContext) throws -> Bool {
        let typed = try ShapeInference.infer(graph, opset: context.opset)
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var taken = graph.allValueNames
        for seed in graph.nodes.indices {
            let reduce = graph.nodes[seed]
            guard reduce.opType == "ReduceMean", reduce.domain.isEmpty, (reduce.int("keepdims") ?? 1) == 0,
                let x = reduce.input(0), let xs = typed.info(of: x)?.shape, xs.count == 4, let c = xs[1].value,
                let axes = reduce.ints("axes") ?? reduce.input(1).flatMap({ graph.constant($0)?.ints }),
                Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3],
                (consumers[reduce.outputs[0]] ?? []).contains(where: {
                    ["MatMul", "Gemm"].contains(graph.nodes[$0].opType)
                })
            else { continue }
            var channels = [reduce.outputs[0]: c]
            var replacement = [Int: [Node]]()
            var extra = [String: Tensor]()
            var mean = reduce
            mean.attributes["keepdims"] = .int(1)
            if reduce.ints("axes") == nil {
                let name = graph.freshName(reduce.outputs[0] + ".axes", avoiding: &taken)
                extra[name] = Tensor(shape: [2], int64s: [2, 3])
                mean.inputs = [x, name]
            }
            replacement[seed] = [mean]
            var pending = [reduce.outputs[0]]
            var visited = Set<String>()
            var ok = true
            while ok, let value = pending.popLast() {
                guard !outputs.contains(value), let width = channels[value] else {
                    ok = false
                    break
                }
                visited.insert(value)
                for r in consumers[value] ?? [] where replacement[r] == nil {
                    let node = graph.nodes[r]
                    guard node.domain.isEmpty, node.outputs.count == 1 else {
                        ok = false
                        break
                    }
                    // A binary node whose other operand is not lifted yet waits for it (it reads that value too).
                    if Self.binary.contains(node.opType),
                        node.inputs.contains(where: { channels[$0] == nil && graph.constant($0) == nil })
                    {
                        continue
                    }
                    guard
                        let plan = plan(
                            node, width: width, channels: channels, graph: graph, typed: typed, taken: &taken,
                            extra: &extra, batch: xs[0])
                    else {
                        ok = false
                        break
                    }
                    replacement[r] = plan.nodes
                    if let w = plan.liftedWidth {
                        channels[node.outputs[0]] = w
                        pending.append(node.outputs[0])
                    }
                }
            }
            // Every reader of every lifted value must have been rewritten.
            let complete = visited.allSatisfy { v in (consumers[v] ?? []).allSatisfy { replacement[$0] != nil } }
            guard ok, complete else { continue }
            var nodes = [Node]()
            for (i, node) in graph.nodes.enumerated() { nodes.append(contentsOf: replacement[i] ?? [node]) }
            graph.nodes = nodes
            for (k, v) in extra { graph.initializers[k] = v }
            // The lifted values changed shape ([N, C] → [N, C, 1, 1]): their recorded types are stale.
            for v in channels.keys { graph.valueInfo[v] = nil }
            _ = try EliminateIdentity().run(&graph, context: context)
            return true
        }
        return false
    }

    struct Plan {
        var nodes: [Node]
        /// The channel count of the node's (lifted) output; nil when the node ends the lift (reshape to 4-D).
        var liftedWidth: Int?
    }

    /// How `node`, reading lifted values, is rewritten; nil when it cannot be.
    func plan(
        _ node: Node, width: Int, channels: [String: Int], graph: Graph, typed: Graph, taken: inout Set<String>,
        extra: inout [String: Tensor], batch: Dim
    ) -> Plan? {
        let y = node.outputs[0]
        switch node.opType {
        case "MatMul", "Gemm":
            guard node.inputs.count >= 2, channels[node.inputs[0]] != nil, let b = graph.constant(node.inputs[1]),
                b.rank == 2, b.dtype.isFloatingPoint
            else { return nil }
            let transB = (node.int("transB") ?? 0) != 0
            if node.opType == "Gemm" {
                guard (node.int("transA") ?? 0) == 0, (node.float("alpha") ?? 1) == 1, (node.float("beta") ?? 1) == 1
                else { return nil }
            }
            let (cin, cout) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            guard cin == width else { return nil }
            // Conv weight [cout, cin, 1, 1]: Wᵀ unless B is already [out, in].
            let v = b.doubles
            let w = (0..<cout * cin).map { k in transB ? v[k] : v[(k % cin) * cout + k / cin] }
            let wName = graph.freshName(node.inputs[1] + ".conv1x1", avoiding: &taken)
            extra[wName] = Tensor(dtype: b.dtype, shape: [cout, cin, 1, 1], values: w)
            var inputs = [node.inputs[0], wName]
            if node.opType == "Gemm", let cName = node.input(2) {
                guard let ct = graph.constant(cName), ct.count == cout else { return nil }
                let bName = graph.freshName(cName + ".conv1x1", avoiding: &taken)
                extra[bName] = ct.reshaped([cout])
                inputs.append(bName)
            }
            return Plan(
                nodes: [Node(name: node.name, opType: "Conv", inputs: inputs, outputs: [y],
                             attributes: ["kernel_shape": .ints([1, 1])])],
                liftedWidth: cout)
        case _ where Self.unary.contains(node.opType):
            guard channels[node.inputs[0]] != nil,
                node.inputs.dropFirst().allSatisfy({ $0.isEmpty || graph.constant($0)?.count == 1 })
            else { return nil }
            return Plan(nodes: [node], liftedWidth: width)
        case _ where Self.binary.contains(node.opType):
            guard node.inputs.count == 2 else { return nil }
            var inputs = node.inputs
            var out: Int?
            for k in 0..<2 {
                if let w = channels[inputs[k]] {
                    guard out == nil || out == w else { return nil }
                    out = w
                } else if let t = graph.constant(inputs[k]) {
                    if t.count == 1 { continue }
                    guard t.rank <= 2, t.shape.last == t.count else { return nil }
                    let name = graph.freshName(inputs[k] + ".lifted", avoiding: &taken)
                    extra[name] = t.reshaped([t.count, 1, 1])
                    inputs[k] = name
                    guard out == nil || out == t.count else { return nil }
                    out = t.count
                } else {
                    return nil
                }
            }
            var n = node
            n.inputs = inputs
            return Plan(nodes: [n], liftedWidth: out ?? width)
        case "Reshape", "Unsqueeze":
            guard node.inputs.first.map({ channels[$0] != nil }) == true, let s = typed.info(of: y)?.shape,
                s.count == 4, s[0] == batch, s[1] == .known(width), s[2] == .known(1), s[3] == .known(1)
            else { return nil }
            return Plan(nodes: [Node(name: node.name, opType: "Identity", inputs: [node.inputs[0]], outputs: [y])],
                        liftedWidth: nil)
        default: return nil
        }
    }
}
