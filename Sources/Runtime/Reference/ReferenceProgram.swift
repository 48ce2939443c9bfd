import KernelCore
import IR

/// A sorted list of nodes with what running them needs: where each value is last read (so `run` can free
/// it), the initializers in scope, and a prepared program for every fused block's body.
struct ReferenceProgram: Sendable {
    let nodes: [Node]
    let opset: Int
    /// Initializers of this graph and every enclosing one.
    let scope: [String: Tensor]
    /// Index of the last node reading each value; values never read after their node are freed at once.
    let lastUse: [String: Int]
    /// Values that must survive the run (the graph's outputs).
    let keep: Set<String>
    /// Inferred static types, to check each computed value against.
    let types: [String: ValueInfo]
    /// Prepared bodies of fused blocks, by node index.
    let bodies: [Int: Body]

    struct Body: Sendable {
        let program: ReferenceProgram
        let inputs: [String]
        let outputs: [String]
    }

    init(graph: Graph, opset: Int, scope outer: [String: Tensor]) throws {
        var scope = outer
        for (k, v) in graph.initializers { scope[k] = v }
        self.opset = opset
        self.scope = scope
        nodes = graph.nodes
        keep = Set(graph.outputs.map(\.name))
        types = graph.valueInfo
        var last = [String: Int]()
        for (i, node) in nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { last[name] = i }
        }
        lastUse = last
        var bodies = [Int: Body]()
        for (i, node) in nodes.enumerated() where node.domain == OpSupport.effnetDomain {
            guard ["MBConv", "FusedMBConv", "SqueezeExcite"].contains(node.opType) else { continue }
            guard let body = node.graph("body") else {
                throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "no 'body' sub-graph")
            }
            let sorted = try body.sorted()
            bodies[i] = Body(
                program: try ReferenceProgram(graph: sorted, opset: opset, scope: scope),
                inputs: body.inputs.map(\.name), outputs: body.outputs.map(\.name))
        }
        self.bodies = bodies
    }

    /// Runs every node on `env` (which holds the graph inputs), adding outputs and, unless `keepAll`,
    /// dropping values after their last reader.
    func execute(_ env: inout [String: Tensor], keepAll: Bool, observe: ((Node, [Tensor]) throws -> Void)?) throws {
        for (i, node) in nodes.enumerated() {
            var inputs = [Tensor?]()
            inputs.reserveCapacity(node.inputs.count)
            for name in node.inputs {
                if name.isEmpty {
                    inputs.append(nil)
                } else if let t = env[name] ?? scope[name] {
                    inputs.append(t)
                } else {
                    throw RuntimeError.nodeFailed(node: node.label, message: "input '\(name)' has no value")
                }
            }
            let outputs: [Tensor]
            if let body = bodies[i] {
                outputs = try runBody(body, node: node, inputs: inputs, env: &env, keepAll: keepAll, observe: observe)
            } else {
                do {
                    outputs = try ConstantEvaluator.reference(node: node, inputs: inputs, opset: opset)
                } catch let error as IRError {
                    throw RuntimeError.nodeFailed(node: node.label, message: Self.message(of: error, node: node))
                }
            }
            for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                guard k < outputs.count else {
                    throw RuntimeError.nodeFailed(node: node.label, message: "produced no value for output '\(name)'")
                }
                try check(outputs[k], name: name, node: node)
                env[name] = outputs[k]
            }
            try observe?(node, outputs)
            if !keepAll {
                for name in node.inputs where !name.isEmpty && lastUse[name] == i && !keep.contains(name) {
                    env[name] = nil
                }
                for name in node.outputs where !name.isEmpty && lastUse[name] == nil && !keep.contains(name) {
                    env[name] = nil
                }
            }
        }
    }

    private func runBody(
        _ body: Body, node: Node, inputs: [Tensor?], env: inout [String: Tensor], keepAll: Bool,
        observe: ((Node, [Tensor]) throws -> Void)?
    ) throws -> [Tensor] {
        var inner = [String: Tensor]()
        for (k, name) in body.inputs.enumerated() {
            guard k < inputs.count, let t = inputs[k] else {
                throw RuntimeError.nodeFailed(node: node.label, message: "body input '\(name)' is not given")
            }
            inner[name] = t
        }
        try body.program.execute(&inner, keepAll: keepAll, observe: observe)
        if keepAll {
            for (name, t) in inner where env[name] == nil { env[name] = t }
        }
        return try body.outputs.map { name in
            guard let t = inner[name] ?? body.program.scope[name] else {
                throw RuntimeError.nodeFailed(node: node.label, message: "body output '\(name)' was not computed")
            }
            return t
        }
    }

    /// Compares a computed value with its inferred type: a mismatch is a bug in a kernel or in inference.
    private func check(_ t: Tensor, name: String, node: Node) throws {
        guard let info = types[name] else { return }
        let fail = {
            RuntimeError.nodeFailed(
                node: node.label,
                message:
                    "computed \(t.dtype)\(Shape(t.shape).text) for '\(name)', inferred \(info.dtype.map(\.rawValue) ?? "?")\(info.shape?.text ?? "[?]")"
            )
        }
        if let d = info.dtype, d != t.dtype { throw fail() }
        guard let s = info.shape else { return }
        guard s.count == t.rank else { throw fail() }
        for (d, v) in zip(s, t.shape) { if let k = d.value, k != v { throw fail() } }
    }

    /// The message of an IR error without repeating the node name.
    static func message(of error: IRError, node: Node) -> String {
        if case .invalidNode(let n, let m) = error, n == node.label { return m }
        return error.description
    }
}
