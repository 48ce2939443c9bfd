import KernelCore
import Foundation
import IR

/// The fast runtime: a graph compiled once per input shape into a static schedule of SIMD kernels over one arena.
///
/// What `init` does: sorts the graph, checks every op has a native or fallback implementation, and — when the
/// inputs' shapes are known, a symbolic batch taken as 1 — builds the plan, which packs every weight for the
/// micro-kernels. Other shapes are planned at the first `run` that feeds them; plans are kept per input shape.
///
/// The plan keeps activations channels-last (NHWC) from the first convolution to the last; C order appears only at
/// graph edges and around reshapes, Gemm and Softmax. Every intermediate lives in one arena whose offsets come from
/// a liveness analysis (values whose lifetimes do not overlap share memory), and so does each step's scratch
/// (Winograd transforms, depth-first pipeline blocks, SE-scaled weights); indirection tables and SE buffers are
/// made when the plan is bound. After the first run with
/// a given shape, `run` allocates only the output tensors it returns (see
/// `RuntimeTests.SessionTests.steadyStateAllocatesNothing`).
///
/// Weights: the session takes the graph's initializers and packs each once for all its plans (`SessionWeights`);
/// an original is released as soon as its packed forms exist and no node needs it otherwise. Hand the session the
/// graph's only copy (`InferenceSession(graph: consume graph)`, having dropped any other) and the originals' memory
/// is freed during planning: peak memory holds the weights about once, not original + packed.
///
/// `run` is serialised by a lock: one session runs one inference at a time on its own worker pool.
public final class InferenceSession: @unchecked Sendable {
    /// The sorted graph, without its initializers (those are in `weights`).
    let graph: Graph
    /// The model's `ai.onnx` opset: operators whose meaning changed between opsets (Softmax) follow it.
    public let opset: Int
    let weights: SessionWeights
    /// What the IR's shape inference may know of each initializer: the value of small and integer ones (shape
    /// arithmetic reads them), type and shape of the rest (the originals are released once packed).
    let weightFacts: [String: ValueFacts]
    public let threads: Int
    let pool: WorkerPool
    private var plans: [[String: [Int]]: ExecutionPlan] = [:]
    private let lock = NSLock()

    /// Operators the native plan runs on run-time values: those whose IR definition has a `NativeLowering`.
    public static var nativeOps: Set<String> { NativeLowerings.opTypes }

    /// Every operator a session accepts: the native ones, and those the IR evaluates (which run when their inputs
    /// are known once the input shapes are: the shape arithmetic of SAME padding).
    public static let supportedOps: Set<String> = nativeOps.union(OpSupport.evaluableOps)

    /// Prepares `model`'s graph for inference under the model's opset (see `init(graph:opset:threads:)`).
    public convenience init(model: consuming Model, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let opset = model.opset
        try self.init(graph: model.graph, opset: opset, threads: threads)
    }

    /// Prepares `graph` (of `ai.onnx` opset `opset`) for inference on `threads` workers (the calling thread
    /// included; ≥ 1). Checks every operator and the IR's types and shapes before anything runs.
    public init(
        graph: consuming Graph, opset: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws {
        try graph.validate()
        var sorted = try graph.sorted()
        for node in sorted.nodes where !InferenceSession.supportedOps.contains(node.opType) {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "\(node.opType) is not supported by the native runtime; only \(InferenceSession.supportedOps.sorted().joined(separator: ", "))"
            )
        }
        for node in sorted.nodes { try InferenceSession.checkAttributes(node, initializers: sorted.initializers) }
        for input in sorted.inputs {
            if let d = input.dtype, d != .float32 {
                throw RuntimeError.unsupportedNode(
                    node: input.name, opType: "input",
                    reason: "a \(d) input is not supported by the native runtime; only float32 inputs")
            }
        }
        // Types and shapes as the file declares them: a contradiction fails here, naming the node.
        _ = try ShapeInference.analyze(sorted, opset: opset)
        // Keep one reference to the initializers, the store's, so that releasing one frees it.
        graph.initializers = [:]
        weightFacts = sorted.initializers.mapValues { t in
            t.dtype != .float32 || t.count <= ValueFacts.elementLimit
                ? ValueFacts(constant: t) : ValueFacts(dtype: t.dtype, shape: Shape(t.shape))
        }
        weights = SessionWeights(sorted.initializers)
        sorted.initializers = [:]
        self.graph = sorted
        self.opset = opset
        self.threads = max(1, threads)
        pool = WorkerPool(threads: self.threads)
        // Plan now when the input shapes are known up to a symbolic batch (assumed 1), so that weights are packed
        // before the first run; other symbolic dimensions wait for the first feed.
        var shapes = [String: [Int]]()
        var guessedBatch = false
        for input in self.graph.inputs {
            guard let dims = input.shape else { return }
            var s = [Int]()
            for (axis, d) in dims.enumerated() {
                if let v = d.value {
                    s.append(v)
                } else if axis == 0 {
                    s.append(1)
                    guessedBatch = true
                } else {
                    return
                }
            }
            shapes[input.name] = s
        }
        if guessedBatch {
            if let plan = try? makePlan(shapes) { plans[shapes] = plan }
        } else {
            plans[shapes] = try makePlan(shapes)
        }
    }

    /// Refusals that depend only on the node and its weights, made when the session is created rather than at
    /// the first run of a shape not known then.
    static func checkAttributes(_ node: Node, initializers: [String: Tensor]) throws {
        func refuse(_ reason: String) -> RuntimeError {
            .unsupportedNode(node: node.label, opType: node.opType, reason: reason)
        }
        switch node.opType {
        case "Conv", "FusedConv":
            if let w = node.input(1), let shape = initializers[w]?.shape, shape.count != 4 {
                throw refuse(
                    "a \(max(shape.count - 2, 0))-D convolution (weights \(shape)) is not supported by the native runtime; only 2-D convolutions"
                )
            }
        case "Gemm" where (node.int("transA") ?? 0) != 0:
            throw refuse("Gemm with transA = 1 is not supported; only transA = 0")
        case "Dropout" where node.outputs.count > 1 && !node.outputs[1].isEmpty:
            throw refuse(DropoutOp.maskRefusal)
        default: break
        }
    }

    private func makePlan(_ shapes: [String: [Int]]) throws -> ExecutionPlan {
        try ExecutionPlan(
            graph: graph, opset: opset, weights: weights, weightFacts: weightFacts, inputShapes: shapes,
            threads: threads)
    }

    /// Runs one inference. Feeds are converted to float32; outputs are float32 in ONNX (C-order, NCHW) layout.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        lock.lock()
        defer { lock.unlock() }
        var shapes = [String: [Int]]()
        for input in graph.inputs {
            guard let t = feeds[input.name] else {
                throw RuntimeError.missingInput(input.name, expected: graph.inputs.map(\.name))
            }
            guard [.float32, .float16, .bfloat16].contains(t.dtype) else {
                throw RuntimeError.badInput(
                    input.name, message: "a \(t.dtype) feed is not supported; only float32 (or float16, widened exactly)")
            }
            if let declared = input.shape, declared.count != t.shape.count {
                throw RuntimeError.badInput(
                    input.name, message: "rank \(t.shape.count), the graph expects \(declared.text)")
            }
            for (d, size) in zip(input.shape ?? [], t.shape) {
                if let v = d.value, v != size {
                    throw RuntimeError.badInput(
                        input.name, message: "shape \(t.shape), the graph expects \(input.shape!.text)")
                }
            }
            shapes[input.name] = t.shape
        }
        let plan: ExecutionPlan
        if let p = plans[shapes] {
            plan = p
        } else {
            plan = try makePlan(shapes)
            plans[shapes] = plan
        }
        return plan.run(feeds, pool: pool)
    }

    /// Per-step minimum wall time over `runs` inferences (after one warm-up), in plan order: where time goes.
    ///
    /// Each step is timed alone, between two reads of the monotonic clock, and the minimum over runs is kept: a
    /// lower bound per step that filters out preemption by other processes (their sum is below a whole run's
    /// minimum, by the clock reads and the cache state a step inherits from the previous one).
    package func profile(_ feeds: [String: Tensor], runs: Int) throws -> [StepProfile] {
        _ = try run(feeds)
        lock.lock()
        defer { lock.unlock() }
        guard let plan = plans.values.first(where: { p in p.inputs.allSatisfy { feeds[$0.name]?.count == $0.count } })
        else { return [] }
        var best = [Double](repeating: .infinity, count: plan.steps.count)
        for _ in 0..<max(1, runs) {
            // The arena reuses the input's memory once it is dead: reload it, or later runs time garbage (V2-S
            // ran into subnormals and took seconds).
            plan.load(feeds)
            for (i, step) in plan.steps.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                step(pool)
                best[i] = min(best[i], Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            }
        }
        return plan.descriptions.indices.map { i in
            let d = plan.descriptions[i]
            return StepProfile(label: d.label, op: d.op, shape: d.shape, seconds: best[i])
        }
    }

    /// Arena size in bytes of the plan for these input shapes, if built.
    package func arenaBytes(for shapes: [String: [Int]]) -> Int? { plans[shapes].map { $0.arena.count * 4 } }

    /// Number of steps in each built plan.
    package var stepCounts: [Int] { plans.values.map(\.steps.count) }
}

/// One step of a plan in a profile: its node's name (or `layout(value)` for a layout conversion), the op type it
/// runs (a fused block's, e.g. `MBConv`, or `Layout`), the shape of the value it computes, and its minimum time.
package struct StepProfile: Sendable {
    package var label: String
    package var op: String
    package var shape: [Int]
    package var seconds: Double
}

/// A graph bound to fixed input shapes: steps, arena, and where inputs and outputs live.
final class ExecutionPlan {
    let arena: FloatBuffer
    let steps: [(WorkerPool) -> Void]
    /// Each step's label (its node's name, or `layout(value)`), op type and output shape, for profiles.
    let descriptions: [(label: String, op: String, shape: [Int])]
    let inputs: [(name: String, offset: Int, count: Int)]
    let outputs: [(name: String, value: PlanValue)]

    /// Values of graph outputs known without running (returned as they are, in their own dtype).
    let constantOutputs: [String: Tensor]

    /// Plans `graph` (sorted, its initializers in `weights`) for `inputShapes`.
    ///
    /// The IR's shape inference runs once on the graph bound to these shapes: its facts give every value's type and
    /// shape, and its constants every value known before running (the Shape → Gather → … → Pad chains of SAME
    /// padding). Nodes whose outputs are all known are not planned; every other value must be float32, since the
    /// kernels compute in float32 (integer and float64 arithmetic only ever happens on known values, exactly).
    init(
        graph: Graph, opset: Int, weights: SessionWeights, weightFacts: [String: ValueFacts],
        inputShapes: [String: [Int]], threads: Int
    ) throws {
        var bound = graph
        for i in bound.inputs.indices {
            bound.inputs[i].shape = Shape(inputShapes[bound.inputs[i].name]!)
            bound.inputs[i].dtype = bound.inputs[i].dtype ?? .float32
        }
        let analysis = try ShapeInference.analyze(bound, opset: opset, external: weightFacts)
        let builder = PlanBuilder(weights: weights, threads: threads, opset: opset, facts: analysis.facts)
        var inputIds = [(String, Int)]()
        for input in graph.inputs {
            let id = builder.newValue(input.name, shape: inputShapes[input.name]!, layout: .nchw)
            builder.values[id].firstUse = -1
            builder.values[id].lastUse = -1
            builder.define(input.name, id)
            inputIds.append((input.name, id))
        }
        builder.constants = analysis.constants
        var remainingReaders = weights.readerCounts(graph.nodes)
        for node in graph.nodes {
            try builder.plan(node)
            weights.finished(node, remaining: &remainingReaders)
        }
        var outs = [(String, Int)]()
        var known = [String: Tensor]()
        for output in graph.outputs {
            if builder.current[output.name] == nil, builder.isConstant(output.name) {
                known[output.name] = try builder.constant(output.name, node: Node(name: output.name, opType: "output", inputs: [], outputs: []), reason: "output")
                continue
            }
            guard let versions = builder.current[output.name], let id = versions[.nchw] ?? versions.values.first else {
                throw RuntimeError.invalidGraph("graph output '\(output.name)' is not computed")
            }
            builder.values[id].lastUse = Int.max
            outs.append((output.name, id))
        }
        var values = builder.values
        let total = Arena.assign(&values)
        try MemoryBudget.check(
            MemoryBudget.bytes(of: [total], elementSize: 4), for: "the activation arena for inputs \(inputShapes)")
        arena = FloatBuffer(count: total)
        let bindings = Bindings(base: arena.pointer, values: values)
        for (id, data) in builder.constantFills {
            data.withUnsafeBufferPointer { bindings.pointer(id).update(from: $0.baseAddress!, count: data.count) }
        }
        steps = builder.recipes.map { $0.make(bindings) }
        descriptions = builder.recipes.map { ($0.label, $0.op, $0.shape) }
        inputs = inputIds.map { ($0.0, values[$0.1].offset, values[$0.1].count) }
        outputs = outs.map { ($0.0, values[$0.1]) }
        constantOutputs = known
    }

    func run(_ feeds: [String: Tensor], pool: WorkerPool) -> [String: Tensor] {
        load(feeds)
        for step in steps { step(pool) }
        var result = constantOutputs
        for (name, v) in outputs {
            let src = arena.pointer + v.offset
            var floats = [Float](repeating: 0, count: v.count)
            floats.withUnsafeMutableBufferPointer { dst in
                if v.layout == .nhwc {
                    LayoutKernels.convert(src, dst.baseAddress!, shape: v.shape, toNHWC: false, pool: nil)
                } else {
                    dst.baseAddress!.update(from: src, count: v.count)
                }
            }
            result[name] = Tensor(shape: v.shape, floats: floats)
        }
        return result
    }

    /// Copies the feeds (float32, or widened) into the arena.
    func load(_ feeds: [String: Tensor]) {
        for input in inputs {
            let t = feeds[input.name]!
            let dst = arena.pointer + input.offset
            if t.dtype == .float32 {
                t.bytes.withUnsafeBytes { raw in
                    dst.update(from: raw.bindMemory(to: Float.self).baseAddress!, count: input.count)
                }
            } else {
                let f = t.floats
                f.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: input.count) }
            }
        }
    }
}
