import ArgumentParser
import Effnet
import Formats
import Foundation
import IR
import Optimizer
import Runtime
import Verify

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove that effnet computes what the source framework computed.",
        discussion: """
            Runs the model two ways and compares each with the expected outputs: the scalar reference interpreter on \
            the graph as read, and the native runtime on the optimized graph (what `run` and `bench` execute); with \
            a reference, also the native runtime against the interpreter. \
            Expected outputs come from --reference IO.npz (the framework's own outputs), or else from the reference \
            interpreter on seeded random inputs. An element passes when |actual − expected| ≤ atol + rtol·|expected|. \
            Exit 0 when every output of both paths passes, 1 when any does not (the report names the first \
            diverging optimizer pass and node, or runtime block), 2 on bad input.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Set both atol and rtol.")
    var tolerance: Double?

    @Option(help: "Absolute tolerance (default 1e-4).")
    var atol: Double?

    @Option(help: "Relative tolerance (default 1e-4).")
    var rtol: Double?

    @Option(help: "An .npz with the inputs and the framework's outputs (named after the graph's, or input/output).")
    var reference: String?

    @Option(help: "Seed for random inputs when there is no --reference.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads for the native runtime.")
    var threads: Int?

    @Flag(help: "Print one JSON document.")
    var json = false

    func validate() throws {
        if tolerance != nil && (atol != nil || rtol != nil) {
            throw ValidationError("use either --tolerance or --atol/--rtol, not both")
        }
        for (name, v) in [("--tolerance", tolerance), ("--atol", atol), ("--rtol", rtol)] {
            if let v, !(v >= 0) { throw ValidationError("\(name) must be a non-negative number") }
        }
        if let threads, !(1...CLILimits.maxThreads).contains(threads) { throw ValidationError(CLILimits.threadsMessage) }
    }

    var chosenTolerance: Tolerance {
        if let tolerance { return Tolerance(tolerance) }
        return Tolerance(atol: atol ?? 1e-4, rtol: rtol ?? 1e-4)
    }

    func run() throws {
        let loaded = try model.load()
        let graph = loaded.model.graph
        let tol = chosenTolerance
        // A half-precision model against its reference: the half tolerance unless the user chose one.
        let userChose = tolerance != nil || atol != nil || rtol != nil
        let half = loaded.halfPrecision != nil && reference != nil && !userChose ? HalfPrecisionTolerance.self : nil
        let referenceTol = half?.tolerance ?? tol
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        var feeds: [String: Tensor]
        var expected: [String: Tensor]
        let interpreter = try ReferenceInterpreter(graph: graph, opset: loaded.model.opset)
        var checks = [VerifyReport.Check]()
        var interpreted: [String: Tensor]? = nil
        /// Against a reference file, outputs the file declares half-precision are rounded to that type first:
        /// effnet computes in float32, a half-precision runtime stores each output in float16/bfloat16.
        func asDeclared(_ outputs: [String: Tensor]) -> [String: Tensor] {
            var out = outputs
            for (name, half) in loaded.halfOutputs { out[name] = out[name]?.rounded(to: half) }
            return out
        }
        if let reference {
            (feeds, expected) = try ReferenceFile.read(reference, graph: graph)
            interpreted = try interpreter.run(feeds)
            checks.append(
                try .init(
                    path: "reference-interpreter", graph: "as read", actual: asDeclared(interpreted!), expected: expected,
                    graphOutputs: graph.outputs, tolerance: referenceTol))
        } else {
            feeds = try RandomInputs.make(for: graph, seed: seed, defaultSize: loaded.defaultSize, path: model.model)
            expected = try interpreter.run(feeds)
        }
        var optimized = loaded.model
        optimized.graph.bindSpatialDims(feeds)
        let report = try Pipeline.standard.run(&optimized.graph, context: PassContext(opset: optimized.opset))
        let session = try InferenceSession(graph: optimized.graph, opset: optimized.opset, threads: threadCount)
        let fast = try session.run(feeds)
        checks.append(
            try .init(
                path: "runtime", graph: "optimized", actual: reference != nil ? asDeclared(fast) : fast,
                expected: expected, graphOutputs: graph.outputs,
                tolerance: reference != nil ? referenceTol : tol))
        if let interpreted {
            // The native runtime against the semantic oracle directly, on the reference's inputs.
            checks.append(
                try .init(
                    path: "runtime vs reference-interpreter", graph: "optimized", actual: fast, expected: interpreted,
                    graphOutputs: graph.outputs, tolerance: tol))
        }
        let passed = checks.allSatisfy(\.passed)
        var divergence: Divergence? = nil
        if !passed {
            divergence = try DivergenceFinder(
                model: loaded.model, optimizedGraph: optimized.graph, feeds: feeds, tolerance: tol, threads: threadCount
            ).locate(importFailed: !checks[0].passed && reference != nil)
        }
        let result = VerifyReport(
            model: model.model, reference: reference, passed: passed, atol: referenceTol.atol, rtol: referenceTol.rtol,
            outputs: checks.first { $0.path == "runtime" }!.outputs, checks: checks, firstDivergence: divergence,
            passes: report.filter { $0.changes > 0 }.map(\.pass),
            toleranceReason: half.map { $0.reason(loaded.halfPrecision!, exact: tol) })
        if json {
            try JSONOutput.print(result)
        } else {
            print(result.text)
        }
        if !passed { throw ExitCode(1) }
    }
}

/// The tolerance `verify` uses between a half-precision (float16/bfloat16) model and its reference.
///
/// Why: the model's weights are the float32 originals rounded to 11 significant bits (float16; 8 for bfloat16),
/// and its reference may be either the float32 framework's output or a runtime's output of the half file (which
/// may round activations too). Rounding every weight moves the logits of the reduced V2-S fixtures by 4.8e-3 to 2.4e-2 from
/// the float32 model (max |Δ| of onnxruntime and of effnet alike), and onnxconverter-common's float16 V2-S by
/// 8.5e-3; 5e-2 (atol and rtol) is twice the largest measured. The native runtime is still held to the default
/// 1e-4 against the reference interpreter: both compute in float32 on the same widened weights.
enum HalfPrecisionTolerance {
    static let tolerance = Tolerance(atol: 5e-2, rtol: 5e-2)

    static func reason(_ dtype: DType, exact: Tolerance) -> String {
        "\(dtype) model: atol = rtol = \(tolerance.atol) against the reference, because its weights are float32 "
            + "values rounded to \(dtype == .bfloat16 ? 8 : 11) significant bits (measured: 4.8e-3 to 2.4e-2 on the "
            + "fixtures); runtime vs interpreter stays at atol \(exact.atol), rtol \(exact.rtol) (both float32)"
    }
}
