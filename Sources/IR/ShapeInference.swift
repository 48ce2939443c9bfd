/// Fills in the type and shape of every value of a graph, in ONNX semantics, and finds the values that are
/// known at compile time.
///
/// Symbolic dimensions flow through (a dynamic batch `N` stays `N`), and small integer tensors are tracked
/// element-wise (`ValueFacts.elements`) through Shape → Gather → Cast → arithmetic → Concat → Reshape → Slice
/// → Pad chains, so the dynamic SAME padding that timm `tf_` exports compute at run time resolves to
/// concrete pads when the input size is known, and degrades to unknown dimensions (never an error) when it is
/// not. Values whose inputs are all constant are evaluated with `ConstantEvaluator` when they are small.
public enum ShapeInference {
    /// Inputs larger than this (elements in total) are not evaluated at inference time; the optimizer's
    /// constant folding decides about big constants itself.
    public static let evaluationLimit = 1 << 16

    /// The result of an analysis.
    public struct Analysis: Sendable {
        /// The graph with `valueInfo` set for every node output and the output types filled.
        public var graph: Graph
        /// Everything known about every value: inputs, visible initializers and node outputs.
        public var facts: [String: ValueFacts]
        /// Node outputs whose value is known at compile time (initializers are not repeated here).
        public var constants: [String: Tensor]
    }

    /// The graph with `valueInfo` and output types filled. Throws `IRError` for structural problems,
    /// unsupported operators and shape contradictions, naming the node.
    public static func infer(_ graph: Graph, opset: Int) throws -> Graph {
        try analyze(graph, opset: opset).graph
    }

    /// The model with its graph inferred under its own `ai.onnx` opset.
    public static func infer(_ model: Model) throws -> Model {
        var m = model
        m.graph = try infer(model.graph, opset: model.opset)
        return m
    }

    public static func analyze(_ graph: Graph, opset: Int) throws -> Analysis {
        try analyze(graph, opset: opset, scope: [:], bound: [:])
    }

    /// The analysis of a graph that reads some values held elsewhere: `external` gives what is known about each
    /// (a runtime keeps packed weights, not the originals: their type and shape, no contents). Each external
    /// name acts as an initializer whose value is unknown unless its facts carry a constant.
    public static func analyze(_ graph: Graph, opset: Int, external: [String: ValueFacts]) throws -> Analysis {
        try analyze(graph, opset: opset, scope: external, bound: [:])
    }

    /// - Parameters:
    ///   - scope: what is known of values of enclosing graphs (their initializers), readable by name (fused-block
    ///     bodies).
    ///   - bound: facts for graph inputs that override their declared types (a body's actual inputs).
    static func analyze(
        _ graph: Graph, opset: Int, scope: [String: ValueFacts], bound: [String: ValueFacts]
    ) throws -> Analysis {
        var visible = scope
        for (k, v) in graph.initializers { visible[k] = ValueFacts(constant: v) }
        var checked = graph
        let declared = Set(graph.inputs.map(\.name))
        for (name, f) in scope where graph.initializers[name] == nil && !declared.contains(name) {
            checked.inputs.append(ValueInfo(name: name, dtype: f.dtype, shape: f.shape))
        }
        try checked.validate()
        let unsupported = graph.nodes.filter {
            OperatorRegistry.definition(opType: $0.opType, domain: $0.domain) == nil
        }
        if !unsupported.isEmpty {
            throw IRError.unsupportedOps(
                unsupported.map { .init(opType: $0.opType, domain: $0.domain, node: $0.label) })
        }

        var facts = [String: ValueFacts]()
        for input in graph.inputs {
            facts[input.name] = bound[input.name] ?? ValueFacts(dtype: input.dtype, shape: input.shape)
        }
        func lookup(_ name: String) -> ValueFacts? {
            if let f = facts[name] { return f }
            return visible[name]
        }
        let declaredOutputs = Dictionary(graph.outputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var constants = [String: Tensor]()

        for index in try graph.topologicalOrder() {
            let node = graph.nodes[index]
            let definition = OperatorRegistry.definition(opType: node.opType, domain: node.domain)!
            let inputs = node.inputs.map { $0.isEmpty ? nil : lookup($0) }
            let context = InferenceContext(node: node, opset: opset, inputs: inputs, scope: visible)
            var outputs = try definition.infer(context).map(promoted)
            let named = (node.outputs.lastIndex { !$0.isEmpty } ?? -1) + 1
            guard outputs.count >= named else {
                throw IRError.invalidNode(
                    node: node.label,
                    message: "\(node.opType) has \(outputs.count) outputs, the node names \(node.outputs.count)")
            }
            if definition.isEvaluable, outputs.contains(where: { $0.constant == nil }),
                inputs.allSatisfy({ $0 == nil || $0!.constant != nil }),
                inputs.reduce(0, { $0 + ($1?.constant?.count ?? 0) }) <= evaluationLimit
            {
                let values = try definition.evaluate(
                    EvaluationContext(node: node, opset: opset, inputs: inputs.map { $0?.constant }))
                for (i, v) in values.prefix(outputs.count).enumerated() { outputs[i] = ValueFacts(constant: v) }
            }
            for (i, name) in node.outputs.enumerated() where !name.isEmpty && i < outputs.count {
                let declared = graph.valueInfo[name] ?? declaredOutputs[name]
                let merged = try merge(outputs[i], declared: declared, value: name, node: node)
                facts[name] = merged
                if let c = merged.constant { constants[name] = c }
            }
        }

        var result = graph
        for node in graph.nodes {
            for name in node.outputs where !name.isEmpty {
                let f = facts[name]!
                result.valueInfo[name] = ValueInfo(name: name, dtype: f.dtype, shape: f.shape)
            }
        }
        result.outputs = graph.outputs.map { output in
            guard let f = lookup(output.name) else { return output }
            return ValueInfo(name: output.name, dtype: f.dtype ?? output.dtype, shape: f.shape ?? output.shape)
        }
        for (name, tensor) in graph.initializers where facts[name] == nil { facts[name] = ValueFacts(constant: tensor) }
        return Analysis(graph: result, facts: facts, constants: constants)
    }

    /// Facts whose elements are all known become a constant (`Gather(Shape(x), 2)` with a dynamic batch).
    ///
    /// Element knowledge that does not fit the shape (an op passed it through a shape that became unknown) is
    /// dropped, so every consumer may rely on `elements.count` = the concrete element count.
    static func promoted(_ f: ValueFacts) -> ValueFacts {
        var f = f
        if let e = f.elements, f.dtype?.isInteger != true || f.shape?.concrete?.reduce(1, *) != e.count {
            f.elements = nil
        }
        guard f.constant == nil, let dtype = f.dtype, dtype.isInteger, let dims = f.shape?.concrete,
            let values = f.elements?.concrete, values.count == dims.reduce(1, *)
        else { return f }
        return ValueFacts(constant: Tensor.wrapping(values.map { Int64($0) }, to: dtype, shape: dims))
    }

    /// Combines inferred facts with a type the file declares: known beats symbolic beats unknown, and a
    /// declared symbol names an inferred unknown. Known sizes or types that disagree are an error.
    static func merge(_ inferred: ValueFacts, declared: ValueInfo?, value: String, node: Node) throws -> ValueFacts {
        guard let declared else { return inferred }
        var out = inferred
        let conflict = {
            IRError.invalidNode(
                node: node.label,
                message:
                    "'\(value)' is declared as \(declared.dtype.map(\.rawValue) ?? "?")\(declared.shape?.text ?? "[?]") but computes \(inferred)"
            )
        }
        if let a = inferred.dtype, let b = declared.dtype, a != b { throw conflict() }
        out.dtype = inferred.dtype ?? declared.dtype
        guard let d = declared.shape else { return out }
        guard let s = inferred.shape else {
            out.shape = d
            return out
        }
        guard s.count == d.count else { throw conflict() }
        out.shape = try zip(s, d).map { a, b in
            switch (a, b) {
            case (.known(let x), .known(let y)):
                if x != y { throw conflict() }
                return a
            case (.known, _): return a
            case (_, .known): return b
            case (_, .symbol): return b
            default: return a
            }
        }
        return out
    }
}
