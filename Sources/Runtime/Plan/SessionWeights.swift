import KernelCore
import IR

/// A session's initializers and the kernel-ready forms its plans make of them, so that each weight is held once.
///
/// A plan packs every weight (GEMM panels, Winograd transforms, depthwise and SE layouts) and needs the original
/// only to do so. This store owns the initializers, taken out of the session's graph, and caches each packed form
/// under the initializer names and parameters it was made from (`prepared`), so a plan for another input shape
/// reuses it instead of packing again. Once the last node that reads an initializer has been planned, and every
/// read went into a cached form, the original is released: when the session holds the graph's only copy
/// (`effnet run` and `bench` hand it over), its bytes are freed right then, and planning holds each weight about
/// once — originals shrinking as packed forms grow — instead of twice (EfficientNetV2-S: 85 MB, not 170).
///
/// Any other read (`tensor(_:node:)`: shape arithmetic, constant operands copied into the arena, BatchNorm
/// parameters) pins the initializer for the session's life. A plan that would need a released initializer in a
/// form not cached fails with `RuntimeError.releasedWeight`; plans of one graph do not, since how a weight is
/// packed depends only on its shape and its node's attributes, never on the input's size.
final class SessionWeights {
    /// What a prepared form was made from: its kind, the initializers it read, and any parameters that shaped it.
    struct Key: Hashable {
        var kind: String
        var names: [String]
        var parameters: [Float] = []
    }

    private var tensors: [String: Tensor]
    private let shapes: [String: [Int]]
    /// Initializers read other than through `prepared`: never released.
    private var pinned: Set<String> = []
    /// Initializers some cached form was made from.
    private var packed: Set<String> = []
    private var cache: [Key: Any] = [:]

    /// Takes ownership of `initializers` (pass the graph's only copy, or nothing is freed).
    init(_ initializers: consuming [String: Tensor]) {
        shapes = initializers.mapValues(\.shape)
        tensors = initializers
    }

    /// The shape of initializer `name`, released or not; nil when `name` is not an initializer.
    func shape(_ name: String) -> [Int]? { shapes[name] }

    /// Initializer `name` for a use that keeps it (nil when `name` is not an initializer).
    func tensor(_ name: String, node: Node) throws -> Tensor? {
        guard shapes[name] != nil else { return nil }
        pinned.insert(name)
        return try unpinned(name, node: node)
    }

    /// Initializer `name` for the `make` closure of `prepared`, which records what it reads in its key.
    func unpinned(_ name: String, node: Node) throws -> Tensor? {
        guard shapes[name] != nil else { return nil }
        guard let tensor = tensors[name] else { throw RuntimeError.releasedWeight(name, node: node.label) }
        return tensor
    }

    /// The cached form for `key`, made by `make` on first use. Forms made from anything but initializers (plan-time
    /// constants, which may depend on the input shape) are not cached.
    func prepared<T>(_ key: Key, make: () throws -> T) throws -> T {
        if let entry = cache[key], let hit = entry as? T { return hit }
        let value = try make()
        // "" stands for an absent optional input.
        if key.names.allSatisfy({ $0.isEmpty || shapes[$0] != nil }) {
            cache[key] = value
            packed.formUnion(key.names.filter { !$0.isEmpty })
        }
        return value
    }

    /// For each initializer, how many of `nodes` read it (a fused block's body counts as its node).
    func readerCounts(_ nodes: [Node]) -> [String: Int] {
        var counts = [String: Int]()
        for node in nodes { for name in initializersRead(by: node) { counts[name, default: 0] += 1 } }
        return counts
    }

    /// The initializers `node` reads, directly or from a sub-graph attribute (fused bodies name outer weights).
    func initializersRead(by node: Node) -> Set<String> {
        var names = Set(node.inputs.filter { shapes[$0] != nil })
        for case .graph(let body) in node.attributes.values {
            for inner in body.nodes { names.formUnion(initializersRead(by: inner)) }
        }
        return names
    }

    /// Counts `node` as planned in one plan's `remaining` readers, releasing each initializer whose last reader it
    /// was when only cached forms were made from it.
    func finished(_ node: Node, remaining: inout [String: Int]) {
        for name in initializersRead(by: node) {
            guard let left = remaining[name] else { continue }
            remaining[name] = left - 1
            if left == 1, packed.contains(name), !pinned.contains(name) { tensors[name] = nil }
        }
    }

    /// Whether initializer `name` has been released (tests).
    func isReleased(_ name: String) -> Bool { shapes[name] != nil && tensors[name] == nil }
}
