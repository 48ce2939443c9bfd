import KernelCore
import IR

/// The semantic oracle: runs any IR graph with plain scalar kernels, one node at a time, in the order of a
/// topological sort.
///
/// Floating-point results are computed in Double (sums accumulate in Double) and rounded once to the value's
/// dtype, so each node's output is at least as accurate as onnxruntime's float32 result; comparisons against
/// it use a relative tolerance around 1e-5. Light ops (shape arithmetic, Pad, Slice, elementwise) run through
/// `ConstantEvaluator`, the code the optimizer folds constants with. Fused effnet blocks run their `body`.
public final class ReferenceInterpreter: Sendable {
    /// The graph as run: validated, topologically sorted, with inferred value types.
    public let graph: Graph
    public let opset: Int
    private let program: ReferenceProgram

    /// Validates the graph, checks that every operator is supported, sorts it and infers its types, so that
    /// a bad graph fails here (as `IRError`, naming the node) rather than half-way through a run.
    public init(graph: Graph, opset: Int) throws {
        try graph.validate()
        try OpSupport.check(graph)
        let inferred = try ShapeInference.infer(try graph.sorted(), opset: opset)
        self.graph = inferred
        self.opset = opset
        self.program = try ReferenceProgram(graph: inferred, opset: opset, scope: [:])
    }

    /// Runs the model's graph under its own `ai.onnx` opset.
    public convenience init(model: Model) throws {
        try self.init(graph: model.graph, opset: model.opset)
    }

    /// The graph outputs for the given inputs. Feeds are checked against the declared input types: dtype,
    /// rank, known sizes, and symbolic sizes bound consistently across inputs.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try checkFeeds(feeds)
        var env = feeds
        try program.execute(&env, keepAll: false, observe: nil)
        var out = [String: Tensor]()
        for output in graph.outputs { out[output.name] = env[output.name] ?? graph.initializers[output.name] }
        return out
    }

    /// Every value of the run by name: the feeds, each node's outputs and the values inside fused blocks'
    /// bodies (under their own names, which are the names the unfused graph used), for divergence localization.
    public func runKeepingIntermediates(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try checkFeeds(feeds)
        var env = feeds
        try program.execute(&env, keepAll: true, observe: nil)
        for output in graph.outputs where env[output.name] == nil { env[output.name] = graph.initializers[output.name] }
        return env
    }

    /// Runs and calls `observe` after every node (body nodes of fused blocks included) with the node and its
    /// outputs; returns the graph outputs. Lets a caller compare values as they appear without keeping them all.
    public func run(_ feeds: [String: Tensor], observe: (Node, [Tensor]) throws -> Void) throws -> [String: Tensor] {
        try checkFeeds(feeds)
        var env = feeds
        try withoutActuallyEscaping(observe) { observe in
            try program.execute(&env, keepAll: false, observe: observe)
        }
        var out = [String: Tensor]()
        for output in graph.outputs { out[output.name] = env[output.name] ?? graph.initializers[output.name] }
        return out
    }

    private func checkFeeds(_ feeds: [String: Tensor]) throws {
        let names = graph.inputs.map(\.name)
        for name in feeds.keys.sorted() where !names.contains(name) {
            throw RuntimeError.unknownInput(name, expected: names)
        }
        var bindings = [String: (Int, String)]()
        for input in graph.inputs {
            guard let t = feeds[input.name] else { throw RuntimeError.missingInput(input.name, expected: names) }
            if let d = input.dtype, d != t.dtype {
                throw RuntimeError.badInput(input.name, message: "expected \(d), got \(t.dtype)")
            }
            guard let shape = input.shape else { continue }
            guard shape.count == t.rank else {
                throw RuntimeError.badInput(
                    input.name,
                    message: "expected shape \(shape.text) (rank \(shape.count)), got \(Shape(t.shape).text)")
            }
            for (axis, (dim, size)) in zip(shape, t.shape).enumerated() {
                switch dim {
                case .known(let v) where v != size:
                    throw RuntimeError.badInput(
                        input.name, message: "expected shape \(shape.text), got \(Shape(t.shape).text) (axis \(axis))")
                case .symbol(let s):
                    if let (bound, other) = bindings[s], bound != size {
                        throw RuntimeError.badInput(
                            input.name,
                            message:
                                "dimension '\(s)' is \(size) here but \(bound) in input '\(other)' (shape \(Shape(t.shape).text))"
                        )
                    }
                    bindings[s] = (size, input.name)
                default: break
                }
            }
        }
    }
}
