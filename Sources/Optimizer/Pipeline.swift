import IR

/// One line of the pass report.
public struct PassReportEntry: Sendable, Equatable, Codable {
    public var pass: String
    public var changes: Int
    public var summary: String
}

/// An ordered list of passes: a plain list, as in tract. `standard` is what `convert`, `inspect`, `run` and
/// `bench` apply unless told otherwise.
public struct Pipeline: Sendable {
    public var passes: [any GraphPass]

    public init(passes: [any GraphPass]) { self.passes = passes }

    /// The default order. Cleanup first so that patterns see the real data flow; constant folding before Pad
    /// folding; exporter normalization (Casts, Transposes, SE squeeze reshapes) after constant folding, so that
    /// the shape arithmetic is gone and types and shapes are known; arithmetic BatchNorm folding after BN folding (the Pad's pads become constants); BatchNorm folding before activation and block fusion (the
    /// fused ops expect BN-free convolutions); cleanup again at the end.
    public static let standard = Pipeline(passes: [
        EliminateIdentity(),
        FoldConstants(),
        EliminateCasts(),
        SinkTransposes(),
        NormalizeSqueezeExcitation(),
        SqueezeExcitationAsConv(),
        EliminateDeadCode(),
        FoldPad(),
        FoldBatchNorm(),
        FoldConvArithmetic(),
        RecognizeActivations(),
        FuseConvActivation(),
        FuseSqueezeExcitation(),
        FuseMBConv(),
        FuseFusedMBConv(),
        AnnotateStages(),
        EliminateDeadCode(),
    ])

    /// Names of the standard passes, in order, without repetition.
    public static var passNames: [String] {
        var seen = Set<String>()
        return standard.passes.map(\.name).filter { seen.insert($0).inserted }
    }

    /// The standard pipeline restricted to `only` (when given) and without `skip`. Unknown names are errors.
    public static func selecting(only: [String]?, skip: [String]) throws -> Pipeline {
        let known = passNames
        for name in (only ?? []) + skip where !known.contains(name) {
            throw OptimizerError.unknownPass(name, known: known)
        }
        return Pipeline(
            passes: standard.passes.filter { pass in
                (only.map { $0.contains(pass.name) } ?? true) && !skip.contains(pass.name)
            })
    }

    /// Runs every pass in order, validating the graph after each one (a pass that breaks SSA form or order is a
    /// bug, reported with the pass's name).
    public func run(_ graph: inout Graph, context: PassContext) throws -> [PassReportEntry] {
        var report = [PassReportEntry]()
        for pass in passes {
            let result = try pass.run(&graph, context: context)
            do {
                try graph.validate()
            } catch {
                throw OptimizerError.passFailed(pass: pass.name, message: String(describing: error))
            }
            report.append(PassReportEntry(pass: pass.name, changes: result.changes, summary: result.summary))
        }
        return report
    }
}
