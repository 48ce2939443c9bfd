import IR

/// Collects non-overlapping rewrites found on one snapshot of a graph and applies them together.
///
/// Matching reads the snapshot (`graph`, `producer`, `consumers`); each `replace` claims the matched nodes so later
/// matches cannot overlap them. The replacement nodes take the position of the last matched node, which keeps
/// topological order as long as a match's external inputs are produced before its first node and its outputs
/// are read only after its last (the matchers check single-consumer chains, which guarantees both).
struct Rewriter {
    let graph: Graph
    let producer: [String: Int]
    let consumers: [String: [Int]]
    let graphOutputs: Set<String>
    private(set) var claimed = Set<Int>()
    private var replacements = [Int: [Node]]()
    private(set) var count = 0

    init(_ graph: Graph) {
        self.graph = graph
        producer = graph.producers
        consumers = graph.consumers
        graphOutputs = Set(graph.outputs.map(\.name))
    }

    /// How many places read `value`: consuming nodes (each input slot counted) plus one if it is a graph output.
    func uses(_ value: String) -> Int {
        var n = graphOutputs.contains(value) ? 1 : 0
        for c in consumers[value] ?? [] {
            n += graph.nodes[c].inputs.filter { $0 == value }.count
        }
        return n
    }

    /// The node reading `value` when it is the value's only use (and not a graph output).
    func soleConsumer(_ value: String) -> (index: Int, node: Node)? {
        guard uses(value) == 1, let c = consumers[value]?.first else { return nil }
        return (c, graph.nodes[c])
    }

    /// The node producing `value`, if a node does (not an input or initializer).
    func producerNode(_ value: String) -> (index: Int, node: Node)? {
        producer[value].map { ($0, graph.nodes[$0]) }
    }

    func isClaimed(_ indices: [Int]) -> Bool { indices.contains { claimed.contains($0) } }

    /// Replaces the nodes at `indices` by `nodes`, placed where the last of them stood.
    mutating func replace(_ indices: [Int], with nodes: [Node]) {
        precondition(!isClaimed(indices), "overlapping rewrite")
        claimed.formUnion(indices)
        replacements[indices.max()!] = nodes
        count += 1
    }

    /// The rewritten graph.
    func apply() -> Graph {
        var out = graph
        out.nodes = []
        out.nodes.reserveCapacity(graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            if let r = replacements[i] {
                out.nodes.append(contentsOf: r)
            } else if !claimed.contains(i) {
                out.nodes.append(node)
            }
        }
        return out
    }
}

extension Graph {
    /// Makes every node (and fused body) read `replacement` wherever it read `value`.
    mutating func replaceUses(of value: String, with replacement: String) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == value {
                nodes[i].inputs[j] = replacement
            }
            for (key, attribute) in nodes[i].attributes {
                if case .graph(var body) = attribute {
                    body.replaceUses(of: value, with: replacement)
                    for k in body.inputs.indices where body.inputs[k].name == value {
                        body.inputs[k].name = replacement
                    }
                    nodes[i].attributes[key] = .graph(body)
                }
            }
        }
    }

    /// A value name not yet used in the graph, derived from `base`.
    func freshName(_ base: String, avoiding taken: inout Set<String>) -> String {
        if !taken.contains(base) && initializers[base] == nil {
            taken.insert(base)
            return base
        }
        var i = 1
        while taken.contains("\(base)_\(i)") || initializers["\(base)_\(i)"] != nil { i += 1 }
        taken.insert("\(base)_\(i)")
        return "\(base)_\(i)"
    }

    /// Every value name in the graph: inputs, initializers, node outputs (including inside fused bodies).
    var allValueNames: Set<String> {
        var names = Set(inputs.map(\.name))
        names.formUnion(initializers.keys)
        func add(_ g: Graph) {
            for node in g.nodes {
                names.formUnion(node.outputs)
                for a in node.attributes.values { if case .graph(let b) = a { add(b) } }
            }
        }
        add(self)
        return names
    }

    /// A constant tensor for `value`: an initializer, or the `value` of a `Constant` node producing it.
    func constant(_ value: String) -> Tensor? {
        if let t = initializers[value] { return t }
        return producers[value].flatMap { ConstantOp.tensor(of: nodes[$0]) }
    }
}
