/// Reads a network's widths, depths and kernels from a checkpoint's tensor names and shapes.
///
/// How: the names give each block's position and kind; then a *symbolic* structure, whose every unknown width is a
/// distinct negative placeholder, is laid out with the scheme's own naming (`NamingScheme.layout`). Matching the
/// checkpoint's shapes against those placeholder shapes gives each unknown a set of votes (a block's output width is
/// seen by its projection weight, four BatchNorm vectors and the next block's first conv); the most frequent value
/// wins. A single damaged or missing tensor therefore cannot change the inferred network, and the strict comparison
/// that follows reports it by name.
enum StructureInference {
    /// Placeholders for the unknowns: stem, head, classes, input channels, stem kernel; four per block.
    private static let stem = -1, head = -2, classes = -3, input = -4, stemKernel = -5
    private static func out(_ b: Int) -> Int { -(100 + 4 * b) }
    private static func mid(_ b: Int) -> Int { -(101 + 4 * b) }
    private static func se(_ b: Int) -> Int { -(102 + 4 * b) }
    private static func kernel(_ b: Int) -> Int { -(103 + 4 * b) }

    /// The structure of `layout` (normalized names and shapes) under `scheme`, with `strides[s]` for the first block
    /// of stage `s`.
    static func infer(
        _ layout: [(name: String, shape: [Int])], scheme: NamingScheme, strides: (Int) -> [Int]
    ) throws -> NetworkStructure {
        // 1. Positions and block kinds from names.
        var sublayers = [BlockKey: Set<String>]()
        var depthwiseUnits = [BlockKey: Set<Int>]()
        var hasClassifier = false
        for (name, shape) in layout {
            guard let parsed = scheme.parse(name) else { continue }
            switch parsed.position {
            case .block(let s, let i):
                let key = BlockKey(stage: s, index: i)
                sublayers[key, default: []].insert(parsed.sublayer)
                if scheme == .torchvision, shape.count == 4, shape[1] == 1, shape[2] > 1,
                    let j = parsed.sublayer.split(separator: ".").first.flatMap({ Int($0) })
                {
                    depthwiseUnits[key, default: []].insert(j)
                }
            case .classifier: hasClassifier = true
            default: break
            }
        }
        guard !sublayers.isEmpty else { throw CheckpointError.cannotInfer("no block tensors (\(scheme) names)") }
        if scheme.numbersBlocksFlat {
            let count = (sublayers.keys.map(\.index).max() ?? -1) + 1
            let positions = flatPositions(layout, count: count, scheme: scheme)
            sublayers = Dictionary(
                uniqueKeysWithValues: sublayers.map { key, value in
                    let (s, i) = positions[key.index]
                    return (BlockKey(stage: s, index: i), value)
                })
        }
        let stageCount = (sublayers.keys.map(\.stage).max() ?? -1) + 1
        var flags = [[BlockFlags?]](repeating: [], count: stageCount)
        for (key, subs) in sublayers {
            if flags[key.stage].count <= key.index {
                flags[key.stage] += Array(repeating: nil, count: key.index + 1 - flags[key.stage].count)
            }
            flags[key.stage][key.index] = scheme.classify(sublayers: subs, depthwiseUnits: depthwiseUnits[key] ?? [])
        }
        for s in 0..<stageCount where flags[s].isEmpty {
            throw CheckpointError.cannotInfer("stage \(s) has no tensors")
        }
        let stageFlags = flags.map(majority)
        let strideTable = strides(stageCount)

        // 2. A symbolic structure and its layout.
        var blocks = [BlockSpec]()
        var previous = stem
        for s in 0..<stageCount {
            for i in 0..<flags[s].count {
                let b = blocks.count
                let f =
                    flags[s][i].map { $0 == stageFlags[s] || flags[s].count < 3 ? $0 : stageFlags[s] } ?? stageFlags[s]
                let o = out(b)
                let m = f.kind == .fusedMBConv ? (f.hasProjection ? mid(b) : o) : (f.hasExpansion ? mid(b) : previous)
                blocks.append(
                    BlockSpec(
                        stage: s, index: i, kind: f.kind, inChannels: previous, midChannels: m, outChannels: o,
                        kernel: kernel(b), stride: i == 0 ? strideTable[s] : 1, seChannels: f.hasSE ? se(b) : nil,
                        hasExpansion: f.hasExpansion, hasProjection: f.hasProjection))
                previous = o
            }
        }
        let symbolic = NetworkStructure(
            inputChannels: input, stemChannels: stem, stemKernel: stemKernel, blocks: blocks, headChannels: head,
            numClasses: hasClassifier ? classes : nil)

        // 3. Votes: placeholder → observed sizes, in checkpoint order.
        var expected = [String: [Int]]()
        for t in scheme.layout(of: symbolic) where !t.isCounter { expected[t.name] = t.shape }
        var votes = [Int: [(value: Int, count: Int)]]()
        for (name, shape) in layout {
            guard let template = expected[name], template.count == shape.count else { continue }
            for (t, v) in zip(template, shape) where t < 0 {
                if let k = votes[t, default: []].firstIndex(where: { $0.value == v }) {
                    votes[t]![k].count += 1
                } else {
                    votes[t, default: []].append((v, 1))
                }
            }
        }
        func value(_ placeholder: Int) -> Int? {
            guard placeholder < 0 else { return placeholder }
            guard let options = votes[placeholder], let best = options.max(by: { $0.count < $1.count }) else {
                return nil
            }
            // max(by:) returns the last of equal maxima; prefer the first seen.
            return options.first { $0.count == best.count }!.value
        }

        // 4. Resolve; a block with no evidence for a width copies its predecessor in the stage.
        func require(_ placeholder: Int, _ what: String) throws -> Int {
            guard let v = value(placeholder), v > 0 else { throw CheckpointError.cannotInfer(what) }
            return v
        }
        var resolved = [BlockSpec]()
        for (b, sym) in blocks.enumerated() {
            let before = resolved.last.flatMap { $0.stage == sym.stage ? $0 : nil }
            func pick(_ p: Int?, _ fallback: Int?, _ what: String) throws -> Int {
                guard let p else { return 0 }
                if let v = value(p), v > 0 { return v }
                if let fallback { return fallback }
                throw CheckpointError.cannotInfer("\(what) of block \(sym.stage).\(sym.index)")
            }
            let inChannels = try b == 0 ? require(stem, "stem width") : resolved[b - 1].outChannels
            let o = try pick(sym.outChannels, before?.outChannels, "output width")
            let m =
                sym.midChannels == sym.outChannels
                ? o
                : sym.midChannels == sym.inChannels
                    ? inChannels
                    : try pick(sym.midChannels, before?.midChannels, "expanded width")
            let k = try pick(sym.kernel, before?.kernel, "kernel size")
            let s = try sym.seChannels.map { try pick($0, before?.seChannels, "squeeze width") }
            var block = sym
            block.inChannels = inChannels
            block.outChannels = o
            block.midChannels = m
            block.kernel = k
            block.seChannels = s
            resolved.append(block)
        }
        return NetworkStructure(
            inputChannels: value(input) ?? 3, stemChannels: try require(stem, "stem width"),
            stemKernel: value(stemKernel) ?? 3, blocks: resolved, headChannels: try require(head, "head width"),
            numClasses: hasClassifier ? try require(classes, "classifier size") : nil)
    }

    /// Stage and position of each block of a scheme that numbers blocks over the whole network
    /// (efficientnet-pytorch). First choice: a table of that scheme whose stage repeats, at some depth multiplier,
    /// add up to the block count and agree with the weights (kernel sizes per stage, no expansion exactly in
    /// stages of expansion 1, equal input and output widths after a stage's first block). Otherwise a new stage
    /// starts wherever the width, the kernel or the presence of an expansion changes.
    static func flatPositions(
        _ layout: [(name: String, shape: [Int])], count: Int, scheme: NamingScheme
    ) -> [(stage: Int, index: Int)] {
        struct Facts {
            var expandIn: Int?
            var depthwise: Int?
            var outChannels: Int?
            var kernel: Int?
            var expands = false
            /// The block's input width: the expansion's input, or the depthwise width without expansion.
            var inChannels: Int? { expands ? expandIn : depthwise }
        }
        var facts = [Facts](repeating: Facts(), count: count)
        for (name, shape) in layout {
            guard let parsed = scheme.parse(name), case .block(_, let n) = parsed.position, n < count,
                name.hasSuffix(".weight"), shape.count == 4
            else { continue }
            switch parsed.sublayer {
            case "_expand_conv":
                facts[n].expands = true
                facts[n].expandIn = shape[1]
            case "_depthwise_conv":
                facts[n].kernel = shape[2]
                facts[n].depthwise = shape[0]
            case "_project_conv": facts[n].outChannels = shape[0]
            default: break
            }
        }
        func consistent(_ counts: [Int], _ stages: [StageSpec]) -> Bool {
            var b = 0
            for (s, c) in counts.enumerated() {
                for i in 0..<c {
                    let f = facts[b]
                    if let k = f.kernel, k != stages[s].kernel { return false }
                    if f.expands != (stages[s].expansion != 1) { return false }
                    if i > 0, let x = f.inChannels, let y = f.outChannels, x != y { return false }
                    b += 1
                }
            }
            return true
        }
        var tried = Set<[Int]>()
        for arch in Architecture.all where arch.scheme == scheme {
            for step in 1...400 {
                let depths = arch.stageDepths(Double(step) / 100)
                let counts = zip(arch.stages, depths).map { Int((Double($0.repeats) * $1).rounded(.up)) }
                guard counts.reduce(0, +) == count, tried.insert(counts).inserted else { continue }
                if consistent(counts, arch.stages) {
                    return counts.enumerated().flatMap { s, c in (0..<c).map { (s, $0) } }
                }
            }
        }
        var positions = [(stage: Int, index: Int)]()
        for n in 0..<count {
            let f = facts[n]
            if n == 0 {
                positions.append((0, 0))
                continue
            }
            let p = facts[n - 1]
            let last = positions[n - 1]
            let newStage = f.inChannels != f.outChannels || f.kernel != p.kernel || f.expands != p.expands
            positions.append(newStage ? (last.stage + 1, 0) : (last.stage, last.index + 1))
        }
        return positions
    }

    private struct BlockKey: Hashable {
        var stage: Int
        var index: Int
    }

    /// The flags most blocks of a stage have (blocks inside a stage share kind and optional parts); the first
    /// present block's flags when there is no strict majority.
    private static func majority(_ flags: [BlockFlags?]) -> BlockFlags {
        let present = flags.compactMap { $0 }
        var counts = [BlockFlags: Int]()
        for f in present { counts[f, default: 0] += 1 }
        if let (f, n) = counts.max(by: { $0.value < $1.value }), n * 2 > present.count { return f }
        return present.first!
    }
}
