import IR

/// Rewrites the squeeze of a squeeze-excitation written as ReduceMean(x, H and W, keepdims = 0) followed by
/// Reshape / Unsqueeze / Squeeze / Transpose steps that end at [N, C, 1, 1] into the one form the SE fusion reads:
/// ReduceMean(x, axes = [2, 3], keepdims = 1).
///
/// Keras 3's export writes SE's squeeze as ReduceMean → Reshape(Shape/Gather/Concat of the batch, 1, 1, C) →
/// Transpose(0, 3, 1, 2); onnxruntime keeps the Reshape and Transpose. Every step must keep the elements in
/// row-major order (Reshape, Squeeze and Unsqueeze always do; a Transpose does when it only moves size-1 axes), so
/// the chain is a reshape of [N, C] to [N, C, 1, 1], which is what keepdims = 1 produces. Shapes come from shape
/// inference. Only the last step is replaced (by the keepdims = 1 mean, reading x, which precedes it); the earlier
/// steps and the Shape arithmetic that read them become dead and are removed.
public struct NormalizeSqueezeExcitation: GraphPass {
    public let name = "normalize-squeeze-excitation"
    public init() {}

    static let orderKeeping: Set<String> = ["Reshape", "Unsqueeze", "Squeeze", "Flatten", "Transpose"]

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        let typed = try ShapeInference.infer(graph, opset: context.opset)
        func shape(_ v: String) -> Shape? { typed.info(of: v)?.shape }
        var rewriter = Rewriter(graph)
        var taken = graph.allValueNames
        var extra = [String: Tensor]()
        var collapsed = 0
        for (r, reduce) in graph.nodes.enumerated()
        where reduce.opType == "ReduceMean" && reduce.domain.isEmpty && (reduce.int("keepdims") ?? 1) == 0 {
            guard let x = reduce.input(0), let xs = shape(x), xs.count == 4,
                let axes = reduce.ints("axes") ?? reduce.input(1).flatMap({ graph.constant($0)?.ints }),
                Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3]
            else { continue }
            // Follow the data path; other readers (Shape nodes computing the Reshape's target) may remain.
            var cursor = reduce.outputs[0]
            var last: (index: Int, value: String)?
            while true {
                let next = (rewriter.consumers[cursor] ?? []).filter {
                    let n = graph.nodes[$0]
                    return Self.orderKeeping.contains(n.opType) && n.domain.isEmpty && n.inputs.first == cursor
                }
                guard next.count == 1, let c = next.first, !rewriter.isClaimed([c]) else { break }
                let node = graph.nodes[c]
                if node.opType == "Transpose" {
                    guard let s = shape(cursor), let perm = node.ints("perm"), perm.count == s.count else { break }
                    let moved = perm.filter { s[$0] != .known(1) }
                    guard moved == moved.sorted() else { break }
                }
                cursor = node.outputs[0]
                if let s = shape(cursor), s.count == 4, s[0] == xs[0], s[1] == xs[1], s[1] != .unknown,
                    s[2] == .known(1), s[3] == .known(1)
                {
                    last = (c, cursor)
                    break
                }
            }
            guard let (l, y) = last, !rewriter.isClaimed([l]) else { continue }
            var mean = Node(name: reduce.name, opType: "ReduceMean", inputs: [x], outputs: [y])
            mean.attributes["keepdims"] = .int(1)
            if reduce.ints("axes") != nil {
                mean.attributes["axes"] = .ints([2, 3])
            } else {
                let name = graph.freshName(y + ".axes", avoiding: &taken)
                extra[name] = Tensor(shape: [2], int64s: [2, 3])
                mean.inputs.append(name)
            }
            rewriter.replace([l], with: [mean])
            collapsed += 1
        }
        guard collapsed > 0 else { return .unchanged }
        graph = rewriter.apply()
        for (k, v) in extra { graph.initializers[k] = v }
        _ = try EliminateDeadCode().run(&graph, context: context)
        return PassResult(changes: collapsed, summary: "collapsed \(collapsed) SE squeeze reshapes")
    }
}
