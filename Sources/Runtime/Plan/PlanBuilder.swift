import KernelCore
import IR

/// A float32 value that lives in the arena during inference.
struct PlanValue {
    var name: String
    /// Logical (ONNX) shape; for `.nhwc` values still [N, C, H, W].
    var shape: [Int]
    /// The IR's `Layout`: `.nchw` is C order exactly as ONNX describes the value (any rank); `.nhwc` stores a
    /// logical [N, C, H, W] value as [N, H, W, C], the layout of every convolution.
    var layout: Layout
    var count: Int { shape.reduce(1, *) }
    /// Offset in floats within the arena (assigned by `Arena.assign`).
    var offset = 0
    /// First and last step index that touch the value (-1: before the first step, i.e. a graph input).
    var firstUse = Int.max
    var lastUse = -1
}

/// Resolves value ids to arena addresses when steps are instantiated.
struct Bindings {
    let base: UnsafeMutablePointer<Float>
    let values: [PlanValue]
    func pointer(_ id: Int) -> UnsafeMutablePointer<Float> { base + values[id].offset }
}

/// A step before the arena exists: the values it reads and writes (for liveness) and how to make it.
struct StepRecipe {
    var label: String
    /// What the step runs, for profiles: the node's op type (a fused block's, e.g. `MBConv`), or `Layout`.
    var op: String
    /// The shape of the value the step computes (logical, [N, C, H, W] for images).
    var shape: [Int]
    var reads: [Int]
    var writes: [Int]
    var make: (Bindings) -> (WorkerPool) -> Void
}

/// Builds the static schedule: values, steps and layout conversions, in the graph's topological order.
final class PlanBuilder {
    var values: [PlanValue] = []
    /// The value id holding each ONNX value name, per layout it has been materialised in.
    var current: [String: [Layout: Int]] = [:]
    /// Plan-time constants: `Constant` outputs and values folded while planning (which may depend on the input
    /// shape). The graph's initializers are in `weights`.
    var constants: [String: Tensor] = [:]
    /// The session's initializers and their packed forms, shared by its plans.
    let weights: SessionWeights
    var recipes: [StepRecipe] = []
    /// The node being planned: its op type and output shape label the steps it adds.
    var currentNode: Node?
    let threads: Int
    /// The model's `ai.onnx` opset.
    let opset: Int
    /// The IR's facts (type, shape) of every value for the plan's input shapes.
    let facts: [String: ValueFacts]

    init(weights: SessionWeights, threads: Int, opset: Int, facts: [String: ValueFacts]) {
        self.weights = weights
        self.threads = threads
        self.opset = opset
        self.facts = facts
    }

    /// The concrete shape shape inference gives output `i` of `node`.
    func inferredShape(_ node: Node, output i: Int = 0) throws -> [Int] {
        guard let s = facts[node.outputs[i]]?.shape?.concrete else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason: "an output of unknown shape is not supported; only shapes known once the input shapes are")
        }
        return s
    }

    func newValue(_ name: String, shape: [Int], layout: Layout) -> Int {
        values.append(PlanValue(name: name, shape: shape, layout: shape.count == 4 ? layout : .nchw))
        return values.count - 1
    }

    /// Registers `id` as the value of ONNX name `name`.
    func define(_ name: String, _ id: Int) { current[name] = [values[id].layout: id] }

    /// A scratch value that lives only during one step.
    func temporary(_ label: String, count: Int) -> Int { newValue(label, shape: [count], layout: .nchw) }

    func isConstant(_ name: String) -> Bool { constants[name] != nil || weights.shape(name) != nil }

    func shape(of name: String, node: Node) throws -> [Int] {
        if let s = constants[name]?.shape ?? weights.shape(name) { return s }
        guard let id = current[name]?.values.first else { throw RuntimeError.unknownValue(name, node: node.label) }
        return values[id].shape
    }

    /// The value of constant `name`. An initializer read this way stays with the session (see `SessionWeights`):
    /// for weights that become packed forms, read the shape with `constantShape` and the values inside `prepared`.
    func constant(_ name: String, node: Node, reason: String) throws -> Tensor {
        if let c = constants[name] { return c }
        guard let c = try weights.tensor(name, node: node) else {
            throw RuntimeError.nonConstant(value: name, node: node.label, reason: reason)
        }
        return c
    }

    /// The shape of constant `name`, without reading (or keeping) its values.
    func constantShape(_ name: String, node: Node, reason: String) throws -> [Int] {
        guard let s = constants[name]?.shape ?? weights.shape(name) else {
            throw RuntimeError.nonConstant(value: name, node: node.label, reason: reason)
        }
        return s
    }

    /// The kernel-ready form of weights `names` (absent optional inputs nil), made by `make` the first time any
    /// plan of the session asks and cached; `make` reads them with `packingInput`. `kind` and `parameters` must
    /// tell apart everything else `make` depends on.
    func prepared<T>(_ kind: String, _ names: [String?], parameters: [Float] = [], make: () throws -> T) throws -> T {
        let key = SessionWeights.Key(kind: kind, names: names.map { $0 ?? "" }, parameters: parameters)
        return try weights.prepared(key, make: make)
    }

    /// Constant `name` inside a `prepared` closure whose key names it: read without pinning it to the session.
    func packingInput(_ name: String, node: Node, reason: String) throws -> Tensor {
        if let c = constants[name] { return c }
        guard let c = try weights.unpinned(name, node: node) else {
            throw RuntimeError.nonConstant(value: name, node: node.label, reason: reason)
        }
        return c
    }

    /// The id of `name` in `layout`, inserting a conversion step the first time another layout is asked for.
    /// Constants are materialised once, as a step-less value filled when the plan is bound.
    func value(_ name: String, _ layout: Layout, node: Node) throws -> Int {
        if current[name] == nil, isConstant(name) {
            let c = try constant(name, node: node, reason: "constant operand")
            let id = newValue(name, shape: c.shape, layout: .nchw)
            let data = c.floats
            values[id].firstUse = -1
            values[id].lastUse = Int.max
            constantFills.append((id, data))
            current[name, default: [:]][.nchw] = id
            return try value(name, layout, node: node)
        }
        guard let versions = current[name], let any = versions.values.first else {
            throw RuntimeError.unknownValue(name, node: node.label)
        }
        let wanted: Layout = values[any].shape.count == 4 ? layout : .nchw
        if let id = versions[wanted] { return id }
        let source = any
        let shape = values[source].shape
        let target = newValue(name, shape: shape, layout: wanted)
        current[name, default: [:]][wanted] = target
        let toNHWC = wanted == .nhwc
        addStep("layout(\(name))", op: "Layout", reads: [source], writes: [target]) { b in
            let src = b.pointer(source)
            let dst = b.pointer(target)
            return { pool in
                LayoutKernels.convert(src, dst, shape: shape, toNHWC: toNHWC, pool: pool)
            }
        }
        return target
    }

    /// Constant values and their contents, written into the arena once when the plan is bound (they stay live for
    /// the whole inference).
    var constantFills: [(Int, [Float])] = []

    /// Appends a step reading and writing the value ids given (their liveness grows to cover it). `op` defaults to
    /// the op type of the node being planned; the step's shape is that of the first value written that is one of
    /// the node's outputs (else of the first value written).
    func addStep(
        _ label: String, op: String? = nil, reads: [Int], writes: [Int],
        make: @escaping (Bindings) -> (WorkerPool) -> Void
    ) {
        let index = recipes.count
        for id in reads + writes {
            values[id].firstUse = min(values[id].firstUse, index)
            values[id].lastUse = max(values[id].lastUse, index)
        }
        let outputs = op == nil ? Set(currentNode?.outputs ?? []) : []
        let shown = writes.first { outputs.contains(values[$0].name) } ?? writes.first
        recipes.append(
            StepRecipe(
                label: label, op: op ?? currentNode?.opType ?? "step", shape: shown.map { values[$0].shape } ?? [],
                reads: reads, writes: writes, make: make))
    }
}

/// The native lowering of one operator: plans a node (whose outputs are not all known) onto the builder's values
/// and steps. An operator's lowering is a conformance of its IR definition type, written beside its kernels
/// (`extension ConvOp: NativeLowering` in ConvOps.swift); `NativeLowerings` finds them through the IR's registry.
protocol NativeLowering {
    static func lower(_ node: Node, _ builder: PlanBuilder) throws
}

/// The lowerings by op type, derived from the IR's operator registry: the one list of what runs natively.
enum NativeLowerings {
    static let byKey: [String: any NativeLowering.Type] = {
        var map = [String: any NativeLowering.Type]()
        for entry in OperatorRegistry.types {
            if let lowering = entry.type as? any NativeLowering.Type { map[entry.domain + "/" + entry.opType] = lowering }
        }
        return map
    }()

    static func lowering(for node: Node) -> (any NativeLowering.Type)? {
        byKey[(node.domain == "ai.onnx" ? "" : node.domain) + "/" + node.opType]
    }

    /// Op types with a native lowering.
    static var opTypes: Set<String> { Set(byKey.keys.map { String($0.split(separator: "/").last!) }) }
}

extension PlanBuilder {
    /// Plans one node: nothing when its outputs are known (the IR's constants), the IR's evaluation when its inputs
    /// are known but too big for the analysis, otherwise its native lowering on float32 values.
    func plan(_ node: Node) throws {
        let named = node.outputs.filter { !$0.isEmpty }
        if named.allSatisfy({ constants[$0] != nil }) { return }
        // Known inputs too big for the analysis to evaluate (a reshaped weight): evaluated here, by the IR.
        if OpSupport.evaluableOps.contains(node.opType), node.domain.isEmpty || node.domain == "ai.onnx",
            node.inputs.allSatisfy({ $0.isEmpty || isConstant($0) })
        {
            let inputs = try node.inputs.map { name in
                name.isEmpty ? nil : try constant(name, node: node, reason: "known input")
            }
            let outputs = try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)
            for (name, t) in zip(node.outputs, outputs) where !name.isEmpty { constants[name] = t }
            return
        }
        for name in named {
            if let d = facts[name]?.dtype, d != .float32 {
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType,
                    reason:
                        "\(node.opType) computing \(d) values at run time is not supported; the native runtime computes float32 only"
                )
            }
        }
        guard let lowering = NativeLowerings.lowering(for: node) else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "\(node.opType) on values computed at run time is not supported; only on values known once the input shapes are (shape arithmetic)"
            )
        }
        currentNode = node
        defer { currentNode = nil }
        try lowering.lower(node, self)
    }
}

/// Layout conversions at graph edges and around the few ops that need C order.
enum LayoutKernels {
    /// [N, C, H, W] ↔ [N, H, W, C], parallel over images × rows. Each row walks one channel plane at a time with
    /// unit stride on the plane side, and the 3-channel image input (every model's first step) interleaves the three
    /// planes directly: one loop over the pixels with the direction and the channel count hoisted out of it (the
    /// per-element form took 0.24 ms, 2% of EfficientNetV2-B0 at 224).
    static func convert(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, shape: [Int], toNHWC: Bool, pool: WorkerPool?
    ) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let plane = h * w
        let body: (Range<Int>, Int) -> Void = { rows, _ in
            for row in rows {
                let img = row / h
                let p = (row % h) * w
                let planar = img * c * plane + p  // channel 0 of this row in [N, C, H, W]
                let packed = (img * plane + p) * c  // this row in [N, H, W, C]
                if toNHWC {
                    let d = dst + packed
                    if c == 3 {
                        let s0 = src + planar
                        let s1 = s0 + plane
                        let s2 = s1 + plane
                        for x in 0..<w {
                            d[3 &* x] = s0[x]
                            d[3 &* x &+ 1] = s1[x]
                            d[3 &* x &+ 2] = s2[x]
                        }
                    } else {
                        for ch in 0..<c {
                            let s = src + planar + ch * plane
                            for x in 0..<w { d[x &* c &+ ch] = s[x] }
                        }
                    }
                } else {
                    let s = src + packed
                    for ch in 0..<c {
                        let d = dst + planar + ch * plane
                        for x in 0..<w { d[x] = s[x &* c &+ ch] }
                    }
                }
            }
        }
        if let pool { pool.parallelFor(n * h, body) } else { body(0..<(n * h), 0) }
    }
}

/// Assigns arena offsets by liveness: values whose step ranges overlap never share memory, others may.
///
/// Greedy best-fit over values sorted by size (largest first), the classic static memory planner (TFLite's
/// "greedy by size"). Offsets are rounded to 16 floats (64 bytes) so that every value starts on a cache line.
enum Arena {
    static func assign(_ values: inout [PlanValue]) -> Int {
        let order = values.indices.filter { values[$0].lastUse >= values[$0].firstUse || values[$0].firstUse == -1 }
            .sorted { values[$0].count > values[$1].count }
        var placed: [(start: Int, end: Int, first: Int, last: Int)] = []
        var total = 0
        for id in order {
            let size = (values[id].count + 15) / 16 * 16 + 16
            let first = values[id].firstUse
            let last = values[id].lastUse
            let conflicts = placed.filter { !($0.last < first || last < $0.first) }.sorted { $0.start < $1.start }
            var offset = 0
            for c in conflicts {
                if offset + size <= c.start { break }
                offset = max(offset, c.end)
            }
            values[id].offset = offset
            placed.append((offset, offset + size, first, last))
            total = max(total, offset + size)
        }
        return total
    }
}
