import ArgumentParser
import Effnet
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between ONNX, .npz and safetensors, optimizing on the way.",
        discussion: """
            Without -o, the optimized model is written beside the input: model.onnx → model.effnet.onnx, a \
            checkpoint model.npz → model.onnx; an existing file there is never replaced unless --force is given. \
            With -o, the output kind comes from its name: .onnx, .npz or .safetensors. ONNX output is standard ONNX \
            (fused blocks are written back as their standard operators; BatchNorm stays folded). .npz and \
            .safetensors output use a framework's naming \
            (--naming; default: the checkpoint's own, the one recorded when effnet built the ONNX file, or timm) when the graph is a recognised \
            EfficientNetV2, and the raw initializer names otherwise. The output is written to a temporary file and \
            renamed into place; the input is never overwritten.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var passes: PassOptions

    @Option(
        name: .shortAndLong,
        help:
            "The output file (.onnx, .npz or .safetensors). Default: beside the input, MODEL.effnet.onnx (a checkpoint: MODEL.onnx).")
    var output: String?

    @Flag(help: "Replace the default output file if it exists (-o always replaces the file it names).")
    var force = false

    @Option(help: "Naming scheme for .npz or .safetensors output: timm, torchvision, keras or efficientnet-pytorch.")
    var naming: NamingScheme?

    @Flag(help: "Store ONNX initializers in one OUT.data file beside the model.")
    var externalData = false

    @Option(help: "ONNX opset to declare (default: the source's, or 17).")
    var opset: Int?

    @Flag(help: "Print one JSON document.")
    var json = false

    var outputKind: ModelConversion.OutputKind? {
        guard let output else { return .onnx }
        if output.hasSuffix(".onnx") { return .onnx }
        if output.hasSuffix(".npz") { return .npz }
        if output.hasSuffix(".safetensors") { return .safetensors }
        return nil
    }

    func validate() throws {
        guard outputKind != nil else {
            throw ValidationError("-o must name a .onnx, .npz or .safetensors file: '\(output ?? "")'")
        }
        if naming != nil && outputKind == .onnx {
            throw ValidationError("--naming applies to .npz and .safetensors output only")
        }
        if externalData && outputKind != .onnx { throw ValidationError("--external-data applies to .onnx output only") }
    }

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try self.output ?? DefaultOutput.path(for: model.model, externalData: externalData, force: force)
        try OutputGuard.refuseOverwritingInput(input: model.model, output: output)
        let loaded = try model.load()
        try OutputGuard.refuseOverwritingDataFiles(loaded.dataFiles, output: output)
        var report = try ModelConversion.convert(
            loaded, input: model.model, to: output, kind: outputKind!, passes: passes.selection, naming: naming,
            opset: opset, externalData: externalData, producerVersion: Effnet.version)
        report.bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? nil
        if externalData, let data = try? FileManager.default.attributesOfItem(atPath: output + ".data")[.size] as? Int {
            report.bytes = (report.bytes ?? 0) + data
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if json { try JSONOutput.print(report) } else { print(report.text) }
    }
}

extension NamingScheme: ExpressibleByArgument {}

/// Where `convert` writes when -o is not given (`ModelConversion.defaultOutput`: beside the input, named for what
/// it is). An existing file there is refused unless `--force`.
enum DefaultOutput {
    struct Exists: Error, CustomStringConvertible {
        var output: String
        var description: String {
            "\(output): already exists (an earlier convert?); pass --force to replace it, or -o OUT to write elsewhere"
        }
    }

    static func path(for input: String, externalData: Bool, force: Bool) throws -> String {
        let path = try ModelConversion.defaultOutput(for: input)
        if !force {
            for candidate in [path] + (externalData ? [path + ".data"] : []) {
                var info = stat()
                if lstat(candidate, &info) == 0 { throw Exists(output: candidate) }
            }
        }
        return path
    }
}

/// Refuses an output path that is the input itself (or its external data), checked on the resolved file identity
/// so that `./m.onnx`, `m.onnx` and a symbolic link to it all count as the same file.
enum OutputGuard {
    struct Refusal: Error, CustomStringConvertible {
        var output: String
        var description: String { "\(output): is the input model; choose another output path" }
    }

    static func refuseOverwritingInput(input: String, output: String) throws {
        /// Device and inode of the file a path resolves to (following symbolic links), nil when it does not exist.
        func identity(_ path: String) -> (UInt64, UInt64)? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (UInt64(info.st_dev), UInt64(info.st_ino))
        }
        func same(_ a: String, _ b: String) -> Bool {
            guard let x = identity(a), let y = identity(b) else { return false }
            return x == y
        }
        if same(input, output) || same(input + ".data", output + ".data") || same(input, output + ".data") {
            throw Refusal(output: output)
        }
    }

    /// Refuses an output (or its `OUT.data`) that is one of the external data files the input model was read
    /// from: replacing one would silently give the input other weights.
    static func refuseOverwritingDataFiles(_ dataFiles: [String], output: String) throws {
        for target in [output, output + ".data"] {
            if let file = dataFiles.first(where: { sameFile($0, target) }) {
                throw DataFileRefusal(output: output, dataFile: file)
            }
        }
    }

    struct DataFileRefusal: Error, CustomStringConvertible {
        var output: String
        var dataFile: String
        var description: String {
            "\(output): would overwrite '\(dataFile)', an external data file of the input model; choose another output path"
        }
    }

    /// Whether two paths name the same existing file (device and inode, symbolic links followed).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat()
        var y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }
}
