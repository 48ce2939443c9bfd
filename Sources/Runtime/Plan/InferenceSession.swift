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
    let weights: SessionWeights
    public let threads: Int
    let pool: WorkerPool
    private var plans: [[String: [Int]]: ExecutionPlan] = [:]
    private let lock = NSLock()

    public static let supportedOps: Set<String> = Set<String>([
        "Conv", "FusedConv", "MBConv", "FusedMBConv", "Silu", "Sigmoid", "Relu", "Clip", "HardSigmoid", "HardSwish",
        "Identity", "Dropout", "Add", "Sub", "Mul", "Div", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape",
        "Squeeze", "Unsqueeze", "Gemm", "MatMul", "Softmax", "BatchNormalization", "Constant", "Pad", "Transpose",
        "SqueezeExcite",
    ]).union(ConstantFolding.foldable)

    /// Prepares `graph` for inference on `threads` workers (the calling thread included; ≥ 1).
    public init(graph: consuming Graph, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        try graph.validate()
        var sorted = try graph.sorted()
        // Keep one reference to the initializers, the store's, so that releasing one frees it.
        graph.initializers = [:]
        weights = SessionWeights(sorted.initializers)
        sorted.initializers = [:]
        self.graph = sorted
        self.threads = max(1, threads)
        pool = WorkerPool(threads: self.threads)
        for node in self.graph.nodes where !InferenceSession.supportedOps.contains(node.opType) {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "no runtime implementation")
        }
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
            if let plan = try? ExecutionPlan(
                graph: self.graph, weights: weights, inputShapes: shapes, threads: self.threads)
            {
                plans[shapes] = plan
            }
        } else {
            plans[shapes] = try ExecutionPlan(
                graph: self.graph, weights: weights, inputShapes: shapes, threads: self.threads)
        }
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
            plan = try ExecutionPlan(graph: graph, weights: weights, inputShapes: shapes, threads: threads)
            plans[shapes] = plan
        }
        return plan.run(feeds, pool: pool)
    }

    /// Per-step minimum wall time over `runs` inferences (after one warm-up), in plan order: where time goes.
    package func profile(_ feeds: [String: Tensor], runs: Int) throws -> [(label: String, seconds: Double)] {
        _ = try run(feeds)
        lock.lock()
        defer { lock.unlock() }
        guard let plan = plans.values.first(where: { p in p.inputs.allSatisfy { feeds[$0.name]?.count == $0.count } })
        else { return [] }
        var best = [Double](repeating: .infinity, count: plan.steps.count)
        for _ in 0..<runs {
            for (i, step) in plan.steps.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                step(pool)
                best[i] = min(best[i], Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            }
        }
        return zip(plan.labels, best).map { ($0, $1) }
    }

    /// Arena size in bytes of the plan for these input shapes, if built.
    package func arenaBytes(for shapes: [String: [Int]]) -> Int? { plans[shapes].map { $0.arena.count * 4 } }

    /// Number of steps in each built plan.
    package var stepCounts: [Int] { plans.values.map(\.steps.count) }
}

/// A graph bound to fixed input shapes: steps, arena, and where inputs and outputs live.
final class ExecutionPlan {
    let arena: FloatBuffer
    let steps: [(WorkerPool) -> Void]
    let labels: [String]
    let inputs: [(name: String, offset: Int, count: Int)]
    let outputs: [(name: String, value: PlanValue)]

    /// Plans `graph` (sorted, its initializers in `weights`) for `inputShapes`.
    init(graph: Graph, weights: SessionWeights, inputShapes: [String: [Int]], threads: Int) throws {
        var constants = [String: Tensor]()
        let builder = PlanBuilder(weights: weights, threads: threads)
        var inputIds = [(String, Int)]()
        for input in graph.inputs {
            let id = builder.newValue(input.name, shape: inputShapes[input.name]!, layout: .plain)
            builder.values[id].firstUse = -1
            builder.values[id].lastUse = -1
            builder.define(input.name, id)
            inputIds.append((input.name, id))
        }
        for node in graph.nodes where node.opType == "Constant" {
            if let t = node.tensor("value") {
                constants[node.outputs[0]] = t
            } else if let f = node.float("value_float") {
                constants[node.outputs[0]] = .scalar(f)
            } else if let v = node.floats("value_floats") {
                constants[node.outputs[0]] = Tensor(shape: [v.count], floats: v)
            } else if let v = node.ints("value_ints") {
                constants[node.outputs[0]] = Tensor(shape: [v.count], int64s: v.map(Int64.init))
            } else if let v = node.int("value_int") {
                constants[node.outputs[0]] = .scalar(Int64(v))
            }
        }
        builder.constants = constants
        func plan(_ node: Node) throws {
            if node.opType != "Constant",
                let folded = try ConstantFolding.fold(
                    node, constant: { name in try builder.constants[name] ?? weights.tensor(name, node: node) },
                    shapeOf: { name in
                        builder.constants[name]?.shape ?? weights.shape(name)
                            ?? builder.current[name]?.values.first.map { builder.values[$0].shape }
                    })
            {
                for (name, t) in zip(node.outputs, folded) { builder.constants[name] = t }
                return
            }
            switch node.opType {
            case "Constant": return
            case "Pad": try builder.planPad(node)
            case "Transpose": try builder.planTranspose(node)
            case "SqueezeExcite":
                // Squeeze-excitation outside a whole block: its standard nodes, planned one by one.
                guard let body = node.graph("body") else {
                    throw RuntimeError.unsupportedNode(
                        node: node.label, opType: node.opType, reason: "no 'body' sub-graph")
                }
                for inner in try body.sorted().nodes { try plan(inner) }
            case let op
            where ConstantFolding.foldable.contains(op)
                && !["Add", "Sub", "Mul", "Div", "Identity", "Clip", "Reshape", "Squeeze", "Unsqueeze"].contains(op):
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType, reason: "runs only on constant inputs (shape computations)")
            case "Conv", "FusedConv": try builder.planConv(node)
            case "MBConv": try builder.planMBConv(node)
            case "FusedMBConv": try builder.planFusedMBConv(node)
            case "Add", "Sub", "Mul", "Div": try builder.planBinary(node)
            case "GlobalAveragePool", "ReduceMean": try builder.planSpatialMean(node)
            case "Flatten", "Reshape", "Squeeze", "Unsqueeze": try builder.planReshape(node)
            case "Gemm", "MatMul": try builder.planGemm(node)
            case "Softmax": try builder.planSoftmax(node)
            case "BatchNormalization": try builder.planBatchNorm(node)
            default: try builder.planUnary(node)
            }
        }
        var remainingReaders = weights.readerCounts(graph.nodes)
        for node in graph.nodes {
            try plan(node)
            weights.finished(node, remaining: &remainingReaders)
        }
        var outs = [(String, Int)]()
        for output in graph.outputs {
            guard let versions = builder.current[output.name], let id = versions[.plain] ?? versions.values.first else {
                throw RuntimeError.invalidGraph("graph output '\(output.name)' is a constant or not computed")
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
        labels = builder.recipes.map(\.label)
        inputs = inputIds.map { ($0.0, values[$0.1].offset, values[$0.1].count) }
        outputs = outs.map { ($0.0, values[$0.1]) }
    }

    func run(_ feeds: [String: Tensor], pool: WorkerPool) -> [String: Tensor] {
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
        for step in steps { step(pool) }
        var result = [String: Tensor]()
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
}
