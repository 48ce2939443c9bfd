import ArgumentParser
import Effnet
import Foundation

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

    func run() throws {
        let loaded = try model.load()
        let result = try ModelVerification.verify(
            loaded, path: model.model,
            options: .init(
                reference: reference, seed: seed, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                tolerance: tolerance, atol: atol, rtol: rtol))
        if json {
            try JSONOutput.print(result)
        } else {
            print(result.text)
        }
        if !result.passed { throw ExitCode(1) }
    }
}
