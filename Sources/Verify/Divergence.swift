import IR
import Optimizer
import Runtime

/// Where two computations of the same model first part ways.
public struct Divergence: Sendable, Codable, Equatable {
    /// `import` (the graph as read already disagrees with the framework), `optimizer` (a pass changed the result),
    /// or `runtime` (the native kernels disagree with the reference interpreter on the optimized graph).
    public var stage: String
    /// The optimizer pass that introduced the difference (stage `optimizer`).
    public var pass: String?
    /// The first node (a fused block, for stage `runtime`) whose output differs beyond tolerance.
    public var node: String?
    public var value: String?
    public var maxAbs: Double?
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case stage, pass, node, value, detail
        case maxAbs = "max_abs"
    }
}

/// Localizes a verification failure.
///
/// Optimizer: replays the standard pipeline one pass at a time, running the reference interpreter after each, and
/// stops at the first pass after which any graph output differs from the unoptimized graph's beyond tolerance;
/// within that pass it names the first value (in the new graph's order) that differs from the same-named value
/// before the pass. Runtime: when every pass preserves the outputs, it asks the native runtime for every node
/// output of the optimized graph and names the first that differs from the interpreter's.
public struct DivergenceFinder {
    public var model: Model
    public var optimizedGraph: Graph
    public var feeds: [String: Tensor]
    public var tolerance: Tolerance
    public var threads: Int
    public var pipeline: Pipeline

    public init(
        model: Model, optimizedGraph: Graph, feeds: [String: Tensor], tolerance: Tolerance, threads: Int,
        pipeline: Pipeline = .standard
    ) {
        self.model = model
        self.optimizedGraph = optimizedGraph
        self.feeds = feeds
        self.tolerance = tolerance
        self.threads = threads
        self.pipeline = pipeline
    }

    public func locate(importFailed: Bool) throws -> Divergence {
        if importFailed {
            return Divergence(
                stage: "import", pass: nil, node: nil, value: nil, maxAbs: nil,
                detail: "the graph as read already differs from the reference outputs (before any optimization): "
                    + "the reference does not belong to this model, or an operator is imported with the wrong semantics"
            )
        }
        if let found = try optimizerDivergence() { return found }
        if let found = try runtimeDivergence() { return found }
        return Divergence(
            stage: "runtime", pass: nil, node: nil, value: nil, maxAbs: nil,
            detail: "every node agrees on its own; the difference appears only in the final outputs")
    }

    private func optimizerDivergence() throws -> Divergence? {
        var graph = model.graph
        graph.bindSpatialDims(feeds)
        var before = try ReferenceInterpreter(graph: graph, opset: model.opset).runKeepingIntermediates(feeds)
        let original = before
        let context = PassContext(opset: model.opset)
        for pass in pipeline.passes {
            var next = graph
            _ = try pass.run(&next, context: context)
            let after = try ReferenceInterpreter(graph: next, opset: model.opset).runKeepingIntermediates(feeds)
            let broken = graph.outputs.contains { output in
                guard let a = after[output.name], let e = original[output.name] else { return true }
                return !Self.close(a, e, tolerance)
            }
            if broken {
                let sorted = try next.sorted()
                for node in sorted.nodes {
                    for value in node.outputs {
                        guard let a = after[value], let e = before[value], a.shape == e.shape else { continue }
                        if !Self.close(a, e, tolerance) {
                            return Divergence(
                                stage: "optimizer", pass: pass.name, node: node.label, value: value,
                                maxAbs: Self.maxAbs(a, e),
                                detail: "after pass '\(pass.name)', '\(value)' differs from its value before the pass")
                        }
                    }
                }
                return Divergence(
                    stage: "optimizer", pass: pass.name, node: nil, value: nil, maxAbs: nil,
                    detail: "the outputs differ after pass '\(pass.name)'")
            }
            graph = next
            before = after
        }
        return nil
    }

    private func runtimeDivergence() throws -> Divergence? {
        let sorted = try optimizedGraph.sorted()
        let reference = try ReferenceInterpreter(graph: sorted, opset: model.opset).runKeepingIntermediates(feeds)
        var probe = sorted
        let existing = Set(probe.outputs.map(\.name))
        for node in sorted.nodes {
            for value in node.outputs where !value.isEmpty && !existing.contains(value) {
                if let t = reference[value], t.dtype.isFloatingPoint {
                    probe.outputs.append(ValueInfo(name: value, dtype: t.dtype, shape: Shape(t.shape)))
                }
            }
        }
        let fast = try InferenceSession(graph: probe, opset: model.opset, threads: threads).run(feeds)
        for node in sorted.nodes {
            for value in node.outputs {
                guard let a = fast[value], let e = reference[value], a.count == e.count else { continue }
                if !Self.close(a, e, tolerance) {
                    return Divergence(
                        stage: "runtime", pass: nil, node: node.label, value: value, maxAbs: Self.maxAbs(a, e),
                        detail:
                            "the native \(node.opType) differs from the reference interpreter on the optimized graph")
                }
            }
        }
        return nil
    }

    static func close(_ a: Tensor, _ e: Tensor, _ tolerance: Tolerance) -> Bool {
        guard a.count == e.count else { return false }
        let x = a.doubles
        let y = e.doubles
        for i in x.indices where !tolerance.allows(actual: x[i], expected: y[i]) { return false }
        return true
    }

    static func maxAbs(_ a: Tensor, _ e: Tensor) -> Double {
        zip(a.doubles, e.doubles).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
