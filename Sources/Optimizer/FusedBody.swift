import IR

/// Building the `body` sub-graph that every fused op carries (DEVELOPERS.md, "Fused ops").
enum FusedBody {
    /// The standard-ONNX nodes a node stands for: itself, or (for an `ai.effnet` node) its body's nodes,
    /// expanded recursively.
    static func standardNodes(of node: Node) -> [Node] {
        guard node.domain == OpSupport.effnetDomain, let body = node.graph("body") else { return [node] }
        return body.nodes.flatMap(standardNodes(of:))
    }

    /// A body graph for `nodes` (expanded to standard ONNX) reading `inputs` and producing `outputs`, with types
    /// taken from the enclosing graph's value infos where known.
    static func make(name: String, nodes: [Node], inputs: [String], outputs: [String], in graph: Graph) -> Graph {
        func info(_ v: String) -> ValueInfo {
            graph.valueInfo[v] ?? graph.info(of: v) ?? ValueInfo(name: v, dtype: .float32, shape: nil)
        }
        var valueInfo = [String: ValueInfo]()
        let expanded = nodes.flatMap(standardNodes(of:))
        for node in expanded {
            for output in node.outputs where !output.isEmpty && !outputs.contains(output) {
                if let vi = graph.valueInfo[output] { valueInfo[output] = vi }
            }
        }
        for node in nodes where node.domain == OpSupport.effnetDomain {
            if let body = node.graph("body") { valueInfo.merge(body.valueInfo) { a, _ in a } }
        }
        return Graph(
            name: name, nodes: expanded, inputs: inputs.map(info), outputs: outputs.map(info), valueInfo: valueInfo)
    }

    /// A readable base name for a fused node: the common path prefix of its parts' names
    /// (`/blocks/blocks.3/blocks.3.1/conv_pw/Conv` and `…/conv_dw/Conv` give `/blocks/blocks.3/blocks.3.1`).
    static func label(for nodes: [Node], fallback: String) -> String {
        let names = nodes.map(\.name).filter { !$0.isEmpty }
        guard var prefix = names.first?.split(separator: "/", omittingEmptySubsequences: false).map(String.init) else {
            return fallback
        }
        for name in names.dropFirst() {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            var k = 0
            while k < min(prefix.count, parts.count) && prefix[k] == parts[k] { k += 1 }
            prefix = Array(prefix.prefix(k))
        }
        let joined = prefix.joined(separator: "/")
        return joined.isEmpty || joined == "/" ? fallback : joined
    }
}

extension Node {
    /// The activation name of a node used as an activation on its first input, for fused-op attributes:
    /// Silu, Relu, Sigmoid, HardSwish, HardSigmoid (default α, β only), and Clip(0, 6) as relu6.
    func activationName(in graph: Graph) -> String? {
        switch (domain, opType) {
        case (OpSupport.effnetDomain, "Silu"): return "silu"
        case ("", "Relu"): return "relu"
        case ("", "Sigmoid"): return "sigmoid"
        case ("", "HardSwish"): return "hardswish"
        case ("", "HardSigmoid"):
            let alpha = float("alpha") ?? 0.2
            let beta = float("beta") ?? 0.5
            return abs(alpha - 1.0 / 6.0) < 1e-7 && beta == 0.5 ? "hardsigmoid" : nil
        case ("", "Clip"):
            let lo: Double?
            let hi: Double?
            if inputs.count > 1 {
                lo = input(1).flatMap { graph.constant($0)?.doubles.first }
                hi = input(2).flatMap { graph.constant($0)?.doubles.first }
            } else {
                lo = float("min").map(Double.init)
                hi = float("max").map(Double.init)
            }
            return lo == 0 && hi == 6 ? "relu6" : nil
        default: return nil
        }
    }
}
