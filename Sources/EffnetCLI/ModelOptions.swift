import ArgumentParser
import Effnet
import Foundation

/// The model argument and the options every model-reading verb shares.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The model: an ONNX file or an .npz checkpoint (the kind is read from the content).")
    var model: String

    @Option(help: "Architecture name for an .npz checkpoint, overriding detection (e.g. tf_efficientnetv2_s).")
    var arch: String?

    /// Reads the model (naming it in any later error that names no file).
    func load() throws -> LoadedModel {
        ErrorReport.current = model
        return try ModelLoader.load(path: model, arch: arch)
    }

    /// Reads, fixes the input size of, optimizes and plans the model (naming it in any later error).
    func executable(passes: PassOptions, size: Int?, threads: Int) throws -> ExecutableModel {
        ErrorReport.current = model
        return try ExecutableModel(path: model, architecture: arch, passes: passes.selection, size: size, threads: threads)
    }
}

/// Choosing optimizer passes.
struct PassOptions: ParsableArguments {
    @Flag(help: "Do not optimize the graph.")
    var noOptimize = false

    @Option(help: ArgumentHelp("Run only these optimizer passes (comma-separated).", valueName: "names"))
    var passes: String?

    @Option(help: ArgumentHelp("Skip these optimizer passes (comma-separated).", valueName: "names"))
    var skipPass: String?

    var only: [String]? { passes.map(Self.split) }
    var skip: [String] { skipPass.map(Self.split) ?? [] }
    /// The passes chosen, for the library.
    var selection: PassSelection { PassSelection(optimize: !noOptimize, only: only, skip: skip) }

    private static func split(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Bounds on flags that size what effnet creates (sizes of buffers go through `MemoryBudget` instead).
enum CLILimits {
    /// Worker threads: far above any core count effnet is tuned for, far below what exhausts thread stacks.
    static let maxThreads = ModelLimits.maxThreads
    static let threadsMessage = "--threads must be between 1 and \(maxThreads)"
}
