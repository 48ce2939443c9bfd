import Foundation
import IR

/// Test-only rewrites that give a builder graph the shapes other producers emit (PyTorch exporters, the optimizer).
enum GraphSurgery {
    /// Folds every Conv → BatchNormalization pair: s = γ/√(σ²+ε), W' = W·s (per output channel),
    /// b' = (b − μ)·s + β, computed in Double and rounded once.
    static func foldBatchNorm(_ graph: Graph) -> Graph {
        var g = graph
        let producers = graph.producers
        var removed = Set<Int>()
        for (i, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" {
            guard let p = producers[bn.inputs[0]], graph.nodes[p].opType == "Conv" else { continue }
            var conv = g.nodes[p]
            let w = graph.initializers[conv.inputs[1]]!
            let params = bn.inputs[1...4].map { graph.initializers[$0]!.doubles }
            let eps = Double(bn.float("epsilon")!)
            let outChannels = w.shape[0]
            let scale = (0..<outChannels).map { params[0][$0] / (params[3][$0] + eps).squareRoot() }
            let perChannel = w.count / outChannels
            let wd = w.doubles
            let folded = (0..<w.count).map { Float(wd[$0] * scale[$0 / perChannel]) }
            let bias = (0..<outChannels).map { Float((0 - params[2][$0]) * scale[$0] + params[1][$0]) }
            g.initializers[conv.inputs[1]] = Tensor(shape: w.shape, floats: folded)
            g.initializers[conv.name + ".bias"] = Tensor(shape: [outChannels], floats: bias)
            for name in bn.inputs[1...4] { g.initializers[name] = nil }
            conv.inputs = [conv.inputs[0], conv.inputs[1], conv.name + ".bias"]
            conv.outputs = bn.outputs
            g.nodes[p] = conv
            removed.insert(i)
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return g
    }

    /// TorchScript shares initializers through Identity nodes.
    static func shareWeightsThroughIdentity(_ graph: Graph) -> Graph {
        var g = graph
        g.nodes = []
        for var node in graph.nodes {
            for (k, input) in node.inputs.enumerated() where k > 0 && graph.initializers[input] != nil {
                let shared = input + ".shared"
                g.nodes.append(Node(name: "Identity_" + input, opType: "Identity", inputs: [input], outputs: [shared]))
                node.inputs[k] = shared
            }
            g.nodes.append(node)
        }
        return g
    }

    /// timm's `x.mean((2, 3), keepdim=True)` exports as ReduceMean.
    static func seMeansAsReduceMean(_ graph: Graph) -> Graph {
        var g = graph
        for (i, n) in g.nodes.enumerated() where n.opType == "GlobalAveragePool" && n.name.hasSuffix(".se.pool") {
            g.nodes[i] = Node(
                name: n.name, opType: "ReduceMean", inputs: n.inputs, outputs: n.outputs,
                attributes: ["axes": .ints([2, 3]), "keepdims": .int(1)])
        }
        return g
    }

    /// Linear as MatMul with a transposed weight plus Add.
    static func gemmAsMatMulAdd(_ graph: Graph) -> Graph {
        var g = graph
        guard let i = g.nodes.firstIndex(where: { $0.opType == "Gemm" }) else { return g }
        let gemm = g.nodes[i]
        let w = g.initializers[gemm.inputs[1]]!
        g.initializers["classifier.weight.t"] = w.permuted([1, 0])
        g.nodes[i] = Node(
            name: "matmul", opType: "MatMul", inputs: [gemm.inputs[0], "classifier.weight.t"], outputs: ["matmul"])
        g.nodes.insert(
            Node(name: "bias_add", opType: "Add", inputs: ["matmul", gemm.inputs[2]], outputs: gemm.outputs), at: i + 1)
        return g
    }

    /// Wraps each block's nodes into one `ai.effnet` fused node whose `body` holds them, as the optimizer does.
    static func wrapBlocksInFusedOps(_ graph: Graph) -> Graph {
        func block(_ name: String) -> String? {
            let parts = name.split(separator: ".")
            guard parts.count > 3, parts[0] == "blocks" else { return nil }
            return parts[0...2].joined(separator: ".")
        }
        var groups = [String: [Node]]()
        var order = [String]()
        for n in graph.nodes {
            guard let b = block(n.name) else { continue }
            if groups[b] == nil { order.append(b) }
            groups[b, default: []].append(n)
        }
        let consumers = graph.consumers
        var g = graph
        g.nodes = []
        var emitted = Set<String>()
        for n in graph.nodes {
            guard let b = block(n.name) else {
                g.nodes.append(n)
                continue
            }
            guard emitted.insert(b).inserted else { continue }
            let nodes = groups[b]!
            let produced = Set(nodes.flatMap(\.outputs))
            // Weights (initializers, or Identity views of them) stay outer-scope references of the body.
            let producers = graph.producers
            let isWeight = { (v: String) -> Bool in
                graph.initializers[v] != nil || producers[v].map { graph.nodes[$0].opType == "Identity" } == true
            }
            let inputs = Array(Set(nodes.flatMap(\.inputs)).subtracting(produced).filter { !isWeight($0) })
            let outputs = produced.filter { v in
                (consumers[v] ?? []).contains { block(graph.nodes[$0].name) != b }
                    || graph.outputs.contains { $0.name == v }
            }
            precondition(inputs.count == 1 && outputs.count == 1, "block \(b): \(inputs) → \(outputs)")
            let body = Graph(
                name: b, nodes: nodes, inputs: [ValueInfo(name: inputs[0], dtype: .float32, shape: nil)],
                outputs: [ValueInfo(name: outputs.first!, dtype: .float32, shape: nil)])
            let op = nodes.contains { $0.opType == "Conv" && ($0.int("group") ?? 1) > 1 } ? "MBConv" : "FusedMBConv"
            g.nodes.append(
                Node(
                    name: b, opType: op, domain: "ai.effnet", inputs: inputs, outputs: [outputs.first!],
                    attributes: ["body": .graph(body)]))
        }
        return g
    }
}
