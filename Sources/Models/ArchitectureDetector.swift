import Foundation

/// How a checkpoint's structure relates to its architecture's table.
public enum ArchitectureMatch: Hashable, Sendable {
    /// Exactly the variant's own widths and depths.
    case exact
    /// The variant's stage table at other multipliers (`timm.create_model(name, channel_multiplier=w,
    /// depth_multiplier=d)`, Keras `EfficientNetV2(width_coefficient=w, depth_coefficient=d, …)`); `w`, `d` are the
    /// simplest values that reproduce the weights with the framework's rounding.
    case scaled(width: Double, depth: Double)
    /// Widths and depths that no multiplier pair reproduces; the nearest variant supplies strides and conventions.
    case custom
}

/// What a checkpoint is: its naming scheme, the framework variant that supplies what weights cannot tell
/// (strides, padding, BN epsilon, input size, preprocessing), and the structure read from the weights.
public struct DetectedModel: Hashable, Sendable {
    public var scheme: NamingScheme
    public var architecture: Architecture
    public var structure: NetworkStructure
    public var match: ArchitectureMatch
    /// Other variants the weights fit equally well (timm `efficientnetv2_s` beside `tf_efficientnetv2_s`: a state
    /// dict does not record padding or epsilon). Pass one as `--arch` to use it instead.
    public var alternatives: [String]
    /// Normalizations and choices made on the way, for `inspect`.
    public var notes: [String]

    public var isStandard: Bool { match == .exact }

    /// `tf_efficientnetv2_s`, `tf_efficientnetv2_s (width 0.5, depth 0.35)`, `tf_efficientnetv2_s (custom)`.
    public var summary: String {
        switch match {
        case .exact: architecture.name
        case .scaled(let w, let d): "\(architecture.name) (width \(w), depth \(d))"
        case .custom:
            "\(architecture.name) (custom widths/depths"
                + (alternatives.isEmpty ? ")" : "; also fits \(alternatives.joined(separator: ", ")))")
        }
    }
}

/// Detects the naming scheme and the variant of a checkpoint, and checks it strictly.
public enum ArchitectureDetector {
    /// The scheme whose names the checkpoint uses: the one that parses the most names and has a stem.
    public static func scheme(of layout: [(name: String, shape: [Int])]) throws -> NamingScheme {
        guard !layout.isEmpty else { throw CheckpointError.empty }
        var best: (scheme: NamingScheme, count: Int)?
        for scheme in NamingScheme.allCases {
            let parsed = layout.compactMap { scheme.parse($0.name) }
            guard parsed.contains(where: { $0.position == .stemConv || $0.position == .stemNorm }) else { continue }
            if best == nil || parsed.count > best!.count { best = (scheme, parsed.count) }
        }
        guard let best else { throw CheckpointError.unknownScheme(sampleNames: layout.prefix(5).map(\.name)) }
        return best.scheme
    }

    /// Detects scheme, structure and variant, then checks every tensor name and shape against the structure.
    /// `architecture` (`--arch`) fixes the variant; widths and depths still come from the weights.
    public static func detect(_ checkpoint: Checkpoint, architecture: Architecture? = nil) throws -> DetectedModel {
        var detected = try detect(layout: checkpoint.layout, architecture: architecture)
        detected.notes = checkpoint.notes + detected.notes
        try validateDTypes(checkpoint)
        return detected
    }

    /// Detection from names and shapes alone (no tensor data needed).
    public static func detect(
        layout: [(name: String, shape: [Int])], architecture: Architecture? = nil
    ) throws -> DetectedModel {
        let scheme = try self.scheme(of: layout)
        var architecture = architecture
        // timm and torchvision share names (`efficientnet_b0`): take the one of the checkpoint's framework.
        if let a = architecture, a.scheme != scheme,
            let same = Architecture.all.first(where: { $0.name == a.name && $0.scheme == scheme })
        {
            architecture = same
        }
        if let architecture, architecture.scheme != scheme {
            throw CheckpointError.schemeMismatch(
                architecture: architecture.name, expected: architecture.scheme, found: scheme)
        }
        let structure = try StructureInference.infer(layout, scheme: scheme) { count in
            if let architecture, architecture.stages.count == count { return architecture.stageStrides }
            return defaultStrides(count)
        }
        let stageCount = structure.stageCount
        var notes = [String]()
        let detected: DetectedModel
        if let architecture {
            guard architecture.stages.count == stageCount else {
                throw CheckpointError.stageCountMismatch(
                    architecture: architecture.name, expected: architecture.stages.count, found: stageCount)
            }
            let match = self.match(structure, against: architecture) ?? .custom
            detected = DetectedModel(
                scheme: scheme, architecture: architecture, structure: structure, match: match, alternatives: [],
                notes: ["architecture given: \(architecture.name)"])
        } else {
            let candidates = Architecture.all.filter { $0.scheme == scheme && $0.stages.count == stageCount }
            guard !candidates.isEmpty else { throw CheckpointError.unsupportedStageCount(stageCount, scheme: scheme) }
            detected = choose(structure, among: candidates, notes: &notes)
        }
        try checkStrict(layout, scheme: scheme, structure: detected.structure, name: detected.architecture.name)
        return detected
    }

    /// The stride pattern every EfficientNetV2 shares: 1, 2, 2, 2, 1, 2, 1.
    static func defaultStrides(_ count: Int) -> [Int] {
        let pattern = [1, 2, 2, 2, 1, 2, 1]
        return (0..<count).map { $0 < pattern.count ? pattern[$0] : 1 }
    }

    // MARK: - Variant matching

    /// The variant a graph (an ONNX file, no tensor names) most likely came from: candidates of the same stage count,
    /// padding style and input layout (and BN epsilon when the graph still has BatchNorm nodes), matched as for
    /// checkpoints. timm non-`tf_` and torchvision models share structure and padding; only an unfolded ε separates
    /// them, otherwise the other is listed in `alternatives`. Nil when no variant has that many stages.
    public static func identify(_ recognized: RecognizedModel) -> DetectedModel? {
        let s = recognized.structure
        var candidates = Architecture.all.filter {
            $0.stages.count == s.stageCount && $0.padding == recognized.padding
                && $0.channelsLast == recognized.channelsLast && $0.activation == recognized.activation
        }
        if let eps = recognized.batchNormEpsilon {
            let same = candidates.filter { $0.batchNormEpsilon == eps }
            if !same.isEmpty { candidates = same }
        }
        guard !candidates.isEmpty else { return nil }
        var notes = ["identified from the graph's structure and \(recognized.padding.rawValue) padding"]
        return choose(s, among: candidates, notes: &notes)
    }

    private static func choose(
        _ structure: NetworkStructure, among candidates: [Architecture], notes: inout [String]
    ) -> DetectedModel {
        func model(_ arch: Architecture, _ match: ArchitectureMatch, _ alternatives: [String]) -> DetectedModel {
            DetectedModel(
                scheme: arch.scheme, architecture: arch, structure: structure, match: match, alternatives: alternatives,
                notes: notes)
        }
        let exact = candidates.filter { $0.structure(numClasses: structure.numClasses) == structure }
        if let first = exact.first { return model(first, .exact, exact.dropFirst().map(\.name)) }
        // Multipliers: the candidate whose table reproduces the weights with the simplest (w, d).
        var best: (arch: Architecture, w: Double, d: Double, level: Int, index: Int)?
        for (index, arch) in candidates.enumerated() {
            guard let (w, d, level) = multipliers(for: structure, table: arch) else { continue }
            if best == nil || level < best!.level { best = (arch, w, d, level, index) }
        }
        if let best {
            let same = candidates.filter {
                $0.name != best.arch.name && $0.stages == best.arch.stages && $0.padding != best.arch.padding
                    && multipliers(for: structure, table: $0) != nil
            }
            return model(best.arch, .scaled(width: best.w, depth: best.d), same.map(\.name))
        }
        notes.append("no multiplier pair reproduces these widths; conventions from the nearest variant")
        let ranked = nearest(structure, among: candidates)
        // Other stage tables that fit almost as well are named, not hidden: at small widths B0 and S round to the
        // same channels, and only `--arch` can settle which one was meant.
        var tables = [ranked[0].architecture.stages]
        let close = ranked.dropFirst().filter { $0.score - ranked[0].score < 0.5 }.compactMap { r -> String? in
            guard !tables.contains(r.architecture.stages) else { return nil }
            tables.append(r.architecture.stages)
            return r.architecture.name
        }
        return model(ranked[0].architecture, .custom, close)
    }

    /// How `structure` relates to one given architecture.
    static func match(_ structure: NetworkStructure, against arch: Architecture) -> ArchitectureMatch? {
        if arch.structure(numClasses: structure.numClasses) == structure { return .exact }
        if let (w, d, _) = multipliers(for: structure, table: arch) { return .scaled(width: w, depth: d) }
        return nil
    }

    /// Multiplier grids, coarse to fine: users write 0.5 or 0.35 more often than 0.347. Within a grid the
    /// smallest value that reproduces the weights is reported.
    private static let grids: [[Double]] = [
        (1...40).map { Double($0) / 10 }, (1...80).map { Double($0) / 20 }, (1...400).map { Double($0) / 100 },
        (1...4000).map { Double($0) / 1000 },
    ]

    /// The coarsest (width, depth) pair for which `table`'s stages, scaled with the framework's rounding, give
    /// exactly `structure`; nil when none does.
    static func multipliers(for structure: NetworkStructure, table: Architecture) -> (Double, Double, Int)? {
        guard table.stages.count == structure.stageCount else { return nil }
        let counts = structure.blocksPerStage
        // Depth: every stage's ⌈r · d⌉ must equal its block count (independent of width).
        var depth: (Double, Int)?
        search: for (level, grid) in grids.enumerated() {
            for d in grid
            where zip(zip(table.stages, table.stageDepths(d)), counts).allSatisfy({
                Int((Double($0.0.repeats) * $0.1).rounded(.up)) == $1
            }) {
                depth = (d, level)
                break search
            }
        }
        guard let (d, depthLevel) = depth else { return nil }
        // Width: compare the full structure built at this depth.
        let depths = table.stageDepths(d)
        for (level, grid) in grids.enumerated() {
            for w in grid {
                // Cheap filter on the stem before building the whole structure.
                guard !table.stemScales || table.rounding.round(table.stemChannels, w) == structure.stemChannels
                else { continue }
                if table.structure(width: w, depth: depths, numClasses: structure.numClasses) == structure {
                    return (w, d, max(level, depthLevel))
                }
            }
        }
        return nil
    }

    /// For widths no multiplier pair explains: the candidates ranked, best first, by how far their table at its
    /// best-fitting width and depth multipliers is from the weights (sum of |log(predicted / actual)| over stage
    /// widths and depths), with a penalty when the first stage differs in shape (B-series 32 → 16 halving at that
    /// width, rw projection); ties keep table order.
    private static func nearest(
        _ structure: NetworkStructure, among candidates: [Architecture]
    ) -> [(architecture: Architecture, score: Double)] {
        var outs = [Int](repeating: 0, count: structure.stageCount)
        for b in structure.blocks { outs[b.stage] = b.outChannels }
        let counts = structure.blocksPerStage
        let firstProjects = structure.blocks.first?.hasProjection ?? false
        var kinds = [(BlockKind, Bool)](repeating: (.mbconv, false), count: structure.stageCount)
        for b in structure.blocks where b.index == 0 { kinds[b.stage] = (b.kind, b.seChannels != nil) }
        let halves = (structure.blocks.first?.outChannels ?? 0) < structure.stemChannels
        func misfit(_ predicted: Int, _ actual: Int) -> Double { abs(log(Double(max(predicted, 1)) / Double(actual))) }
        func score(_ a: Architecture) -> Double {
            let grid = grids[2]
            // Whether the first stage narrows the stem is judged after rounding at each width: B0's 32 → 16 is
            // 8 → 8 at width 0.25.
            let width = grid.map { w in
                let stem = a.rounding.round(a.stemChannels, w)
                let predictedHalves = a.rounding.round(a.stages[0].outChannels, w) < stem
                return zip(a.stages, outs).reduce(misfit(stem, structure.stemChannels)) {
                    $0 + misfit(a.rounding.round($1.0.outChannels, w), $1.1)
                } + (predictedHalves != halves ? 10 : 0)
            }.min()!
            let depth = grid.map { d in
                zip(a.stages, counts).reduce(0) { $0 + misfit(Int((Double($1.0.repeats) * d).rounded(.up)), $1.1) }
            }.min()!
            var s = width + depth
            // EfficientNet (V1), Lite and V2-M/L/XL all have seven stages: block kinds and SE tell them apart.
            for (spec, kind) in zip(a.stages, kinds) where spec.kind != kind.0 || (spec.seRatio > 0) != kind.1 {
                s += 10
            }
            if a.stages[0].kind == .fusedMBConv,
                (a.stages[0].projectsWithoutExpansion || a.stages[0].expansion != 1) != firstProjects
            {
                s += 10
            }
            return s
        }
        let scores = candidates.map(score)
        return scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            .map { (candidates[$0], scores[$0]) }
    }

    // MARK: - Strict check

    /// Compares every name and shape with the layout the framework has for `structure`, as PyTorch's strict
    /// `load_state_dict` does, and throws one error listing every difference. `num_batches_tracked` counters and
    /// Keras `normalization/*` statistics are optional.
    static func checkStrict(
        _ layout: [(name: String, shape: [Int])], scheme: NamingScheme, structure: NetworkStructure, name: String
    ) throws {
        let expected = scheme.layout(of: structure)
        let actual = Dictionary(layout.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        var missing = [String]()
        var wrong = [CheckpointError.ShapeMismatch]()
        var known = Set<String>()
        for t in expected {
            known.insert(t.name)
            guard let shape = actual[t.name] else {
                if !t.isCounter { missing.append(t.name) }
                continue
            }
            if t.isCounter ? shape.reduce(1, *) != 1 : shape != t.shape {
                wrong.append(.init(name: t.name, expected: t.shape, actual: shape))
            }
        }
        let unexpected = layout.map(\.name).filter { !known.contains($0) && !isOptionalExtra($0, scheme: scheme) }
        if !missing.isEmpty || !unexpected.isEmpty || !wrong.isEmpty {
            throw CheckpointError.mismatch(
                architecture: name, missing: missing, unexpected: unexpected, wrongShape: wrong)
        }
    }

    /// Keras `Normalization` layers keep `mean`, `variance` and `count` when adapted instead of configured, and
    /// `model.variables` (unlike `model.weights`) also lists the dropout layers' `seed_generator_state`s.
    static func isOptionalExtra(_ name: String, scheme: NamingScheme) -> Bool {
        guard scheme == .keras else { return false }
        let parts = name.split(separator: "/")
        guard parts.count == 2 else { return false }
        if parts[0].hasPrefix("seed_generator") { return parts[1] == "seed_generator_state" }
        return parts[0].hasPrefix("normalization") && ["mean", "variance", "count"].contains(String(parts[1]))
    }

    private static func validateDTypes(_ checkpoint: Checkpoint) throws {
        for name in checkpoint.names {
            let t = checkpoint[name]!
            // Counters: PyTorch's BatchNorm batches, Keras's dropout seeds and its Normalization's sample count (an
            // integer in `model.weights`, so in a checkpoint written from them).
            if name.hasSuffix("num_batches_tracked") || name.hasSuffix("seed_generator_state")
                || (name.hasSuffix("/count") && isOptionalExtra(name, scheme: .keras)) || t.dtype.isFloatingPoint
            {
                continue
            }
            throw CheckpointError.invalidTensor(
                name: name, problem: "\(t.dtype) weights; expected a floating-point type")
        }
    }
}
