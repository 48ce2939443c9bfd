extension Graph {
    /// Checks SSA form and reachability: every value produced once, every node input produced by an input,
    /// initializer or earlier-or-later node, every output produced, and no cycles. Node order may be arbitrary.
    public func validate() throws {
        var produced = Set<String>()
        for input in inputs { produced.insert(input.name) }
        for name in initializers.keys where !produced.contains(name) { produced.insert(name) }
        for node in nodes {
            for output in node.outputs where !output.isEmpty {
                if !produced.insert(output).inserted { throw IRError.duplicateValue(output, node: node.label) }
            }
        }
        for node in nodes {
            for input in node.inputs where !input.isEmpty && !produced.contains(input) {
                throw IRError.missingInput(input, node: node.label)
            }
        }
        for output in outputs where !produced.contains(output.name) { throw IRError.missingOutput(output.name) }
        _ = try topologicalOrder()
    }

    /// Node indices ordered so every node follows the producers of its inputs (Kahn's algorithm, stable:
    /// nodes already in order keep their order). Throws `IRError.cycle` when no such order exists.
    public func topologicalOrder() throws -> [Int] {
        let producer = producers
        var pending = [Int](repeating: 0, count: nodes.count)
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            var seen = Set<Int>()
            for input in node.inputs where !input.isEmpty {
                if let p = producer[input], seen.insert(p).inserted {
                    pending[i] += 1
                    dependents[p].append(i)
                }
            }
        }
        // A min-heap would be O(n log n); a sorted ready list keeps the original order and is plenty fast for
        // graphs of a few thousand nodes.
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }
        var order = [Int]()
        order.reserveCapacity(nodes.count)
        var cursor = 0
        while cursor < ready.count {
            let i = ready[cursor]
            cursor += 1
            order.append(i)
            var released = [Int]()
            for d in dependents[i] {
                pending[d] -= 1
                if pending[d] == 0 { released.append(d) }
            }
            if !released.isEmpty {
                ready.append(contentsOf: released)
                ready[cursor...].sort()
            }
        }
        if order.count != nodes.count {
            let stuck = (0..<nodes.count).filter { pending[$0] > 0 }.map { nodes[$0].label }
            throw IRError.cycle(nodes: stuck)
        }
        return order
    }

    /// The same graph with its nodes in topological order.
    public func sorted() throws -> Graph {
        var copy = self
        copy.nodes = try topologicalOrder().map { nodes[$0] }
        return copy
    }
}
