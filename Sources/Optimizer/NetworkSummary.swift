import IR

/// One fused block as `inspect` reports it.
public struct BlockSummary: Sendable, Equatable, Codable {
    public var name: String
    /// `mbconv` or `fused_mbconv`.
    public var kind: String
    public var stage: Int
    public var expandRatio: Double
    public var kernel: Int
    public var stride: Int
    /// SE width relative to the block's input channels (the papers' convention), nil without SE.
    public var seRatio: Double?
    public var inChannels: Int
    public var outChannels: Int
    public var residual: Bool

    enum CodingKeys: String, CodingKey {
        case name, kind, stage, kernel, stride, residual
        case expandRatio = "expand_ratio"
        case seRatio = "se_ratio"
        case inChannels = "in_channels"
        case outChannels = "out_channels"
    }
}

/// One row of the paper's stage table (EfficientNetV2, Table 4): Stage | Operator | Stride | #Channels | #Layers.
public struct StageRow: Sendable, Equatable, Codable {
    public var stage: Int
    public var `operator`: String
    public var stride: Int
    public var channels: Int
    public var layers: Int
}

/// The network read back from an optimized graph: its fused blocks and its stage table.
public struct NetworkSummary: Sendable, Equatable {
    public var blocks: [BlockSummary]
    public var stages: [StageRow]

    /// Reads blocks from `MBConv` / `FusedMBConv` nodes in graph order and groups them into stages: a block starts
    /// a new stage when it has no residual (the stride or the width changes) or when its kind, expansion or
    /// kernel size differs from the block before (EfficientNet's 3×3 and 5×5 stages at tiny widths); the first block starts stage 1. Stage 0 is the stem (the first
    /// convolution); the last row is the head (1×1 conv, pooling, classifier) when present.
    public init(graph: Graph) {
        var blocks = [BlockSummary]()
        var stage = 0
        for node in graph.nodes
        where node.domain == OpSupport.effnetDomain && (node.opType == "MBConv" || node.opType == "FusedMBConv") {
            let weights = node.opType == "MBConv" ? (node.input(1) ?? node.inputs[3]) : node.inputs[1]
            let dwOrConv = node.opType == "MBConv" ? node.inputs[3] : node.inputs[1]
            guard let w = graph.initializers[weights], let inner = graph.initializers[dwOrConv] else { continue }
            let projectW = node.input(node.opType == "MBConv" ? 9 : 7).flatMap { graph.initializers[$0] }
            let inChannels: Int = node.opType == "MBConv" && node.input(1) == nil ? inner.shape[0] : w.shape[1]
            let outChannels = projectW?.shape[0] ?? inner.shape[0]
            let seW = node.input(node.opType == "MBConv" ? 5 : 3).flatMap { graph.initializers[$0] }
            let kind = node.opType == "MBConv" ? "mbconv" : "fused_mbconv"
            let expand = Double(node.float("expand_ratio") ?? 1)
            let residual = (node.int("residual") ?? 0) != 0
            if let last = blocks.last {
                let kernel = node.ints("kernel_shape")?.first ?? 0
                if !residual || last.kind != kind || abs(last.expandRatio - expand) > 1e-6 || last.kernel != kernel {
                    stage += 1
                }
            } else {
                stage = 1
            }
            blocks.append(
                BlockSummary(
                    name: node.name, kind: kind, stage: node.int("stage") ?? stage, expandRatio: expand,
                    kernel: node.ints("kernel_shape")?.first ?? 0, stride: node.ints("strides")?.first ?? 1,
                    seRatio: seW.map { Double($0.shape[0]) / Double(inChannels) }, inChannels: inChannels,
                    outChannels: outChannels, residual: residual))
        }
        self.blocks = blocks
        var rows = [StageRow]()
        let convs = graph.nodes.filter { $0.opType == "Conv" || $0.opType == "FusedConv" }
        if let stem = convs.first, let w = graph.initializers[stem.inputs[1]], w.rank == 4 {
            rows.append(
                StageRow(
                    stage: 0, operator: "Conv\(w.shape[2])x\(w.shape[3])", stride: stem.ints("strides")?.first ?? 1,
                    channels: w.shape[0], layers: 1))
        }
        for s in Set(blocks.map(\.stage)).sorted() {
            let members = blocks.filter { $0.stage == s }
            let first = members[0]
            let ratio =
                first.expandRatio.rounded() == first.expandRatio
                ? String(Int(first.expandRatio)) : String(format2: first.expandRatio)
            var op = (first.kind == "mbconv" ? "MBConv" : "Fused-MBConv") + ratio + ", k\(first.kernel)x\(first.kernel)"
            if let se = first.seRatio { op += ", SE" + String(format2: se) }
            rows.append(
                StageRow(
                    stage: s, operator: op, stride: first.stride, channels: members.last!.outChannels,
                    layers: members.count))
        }
        // Head: the last pointwise convolution followed by pooling and a classifier.
        if let head = convs.last, head.inputs[1] != convs.first?.inputs[1], let w = graph.initializers[head.inputs[1]],
            w.rank == 4,
            w.shape[2] == 1, w.shape[3] == 1, !blocks.isEmpty
        {
            let hasPool = graph.nodes.contains {
                ["GlobalAveragePool", "ReduceMean"].contains($0.opType) && $0.domain.isEmpty
            }
            let hasFC = graph.nodes.contains { ($0.opType == "Gemm" || $0.opType == "MatMul") && $0.domain.isEmpty }
            let op = "Conv1x1" + (hasPool ? " & Pooling" : "") + (hasFC ? " & FC" : "")
            rows.append(
                StageRow(
                    stage: (blocks.map(\.stage).max() ?? 0) + 1, operator: op, stride: 1, channels: w.shape[0],
                    layers: 1))
        }
        stages = rows
    }

    /// The stage table as aligned text.
    public var stageTable: String {
        let header = ["Stage", "Operator", "Stride", "#Channels", "#Layers"]
        let cells = stages.map {
            [String($0.stage), $0.operator, String($0.stride), String($0.channels), String($0.layers)]
        }
        let widths = header.indices.map { c in ([header[c]] + cells.map { $0[c] }).map(\.count).max()! }
        func line(_ row: [String]) -> String {
            row.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }.joined(separator: " | ")
        }
        return
            ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")] + cells.map(line))
            .joined(separator: "\n")
    }
}

extension String {
    /// Up to two decimals without trailing zeros: 0.25, 0.5, 4.
    init(format2 v: Double) {
        let r = (v * 100).rounded() / 100
        if r == r.rounded() {
            self = String(Int(r))
            return
        }
        var s = String(r)
        while s.hasSuffix("0") { s.removeLast() }
        self = s
    }
}
