import ArgumentParser
import Formats
import Foundation
import IR
import Imaging

#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Classify images with a model on the native runtime.")

    @Argument(help: "JPEG or PNG images, or folders (walked recursively; images recognised by content).")
    var images: [String] = []

    @Option(
        name: [.short, .customLong("model")],
        help: "The model (.onnx or .npz). Default: $EFFNET_MODEL, else the one `effnet model install` put in place.")
    var model: String?

    @Option(help: "Architecture for an .npz checkpoint, overriding detection.")
    var arch: String?

    @OptionGroup var passes: PassOptions

    @Option(help: "How many classes to print per image.")
    var top = 5

    @Option(
        help: """
            Class names: text (one per line), a JSON list, or a JSON map from index to name (ONNX zoo) or to \
            [WordNet ID, name] (Keras). Default: ImageNet-1k names for 1000 (or 1001) classes.
            """)
    var labels: String?

    @Option(help: "Preprocessing preset: torchvision, timm, timm-tf, keras (default: the model's framework's).")
    var preset: String?

    @Option(help: "Input size S (default: the model's).")
    var size: Int?

    @Option(help: "Resampling filter: bilinear or bicubic (default: the preset's).")
    var interpolation: Interpolation?

    @Option(help: "Center-crop fraction: resize the shorter side to S / P, then crop S.")
    var cropPct: Double?

    @Option(help: "Per-channel mean, comma-separated (default: the preset's).")
    var mean: String?

    @Option(help: "Per-channel standard deviation, comma-separated (default: the preset's).")
    var std: String?

    @Option(help: "Worker threads (default: the available cores).")
    var threads: Int?

    @Option(help: "Images per inference batch.")
    var batch = 8

    @Option(help: "Largest image accepted, in pixels (checked from the file's header, before decoding).")
    var maxPixels = 100_000_000

    @Option(help: "A file listing images or folders, one per line ('-': standard input).")
    var filesFrom: String?

    @Option(help: "Take every N-th input of the list, starting at the K-th (K from 0 to N-1).")
    var shard: String?

    @Option(help: "Output format: text, json, jsonl or csv.")
    var format: RunOutput.Format?

    @Option(name: .shortAndLong, help: "Write the results to FILE (atomically) instead of standard output.")
    var output: String?

    @Flag(help: "Print one JSON document (same as --format json).")
    var json = false

    @Flag(help: "Apply each image's EXIF orientation before preprocessing (off by default, as timm and torchvision).")
    var exifTranspose = false

    static let maxSize = 2048
    static let minCropPct = 0.05
    static let maxBatch = 256
    static let maxTop = 1000

    func validate() throws {
        guard (1...Self.maxTop).contains(top) else {
            throw ValidationError("--top must be between 1 and \(Self.maxTop): \(top)")
        }
        if let size, !(1...Self.maxSize).contains(size) {
            throw ValidationError("--size must be between 1 and \(Self.maxSize): \(size)")
        }
        // --crop-pct: Preprocessing.validate refuses a fraction whose resize would be absurd, before allocating.
        if let cropPct, !(cropPct > 0 && cropPct <= 1) { throw ValidationError("--crop-pct must be in (0, 1]") }
        if let threads, !(1...CLILimits.maxThreads).contains(threads) {
            throw ValidationError(CLILimits.threadsMessage)
        }
        guard (1...Self.maxBatch).contains(batch) else {
            throw ValidationError("--batch must be between 1 and \(Self.maxBatch): \(batch)")
        }
        guard (1...RGBImage.maxPixels).contains(maxPixels) else {
            throw ValidationError("--max-pixels must be between 1 and \(RGBImage.maxPixels): \(maxPixels)")
        }
        _ = try shardSpec()
        if json && format != nil && format != .json { throw ValidationError("--json and --format \(format!) disagree") }
        if images.isEmpty && filesFrom == nil {
            throw ValidationError("no images: name files or folders, or pass --files-from")
        }
    }

    func shardSpec() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else {
            throw ValidationError("--shard must be K/N with 0 <= K < N: '\(shard)'")
        }
        return (k, n)
    }

    func run() throws {
        let (path, source) = try ModelStore.resolve(model)
        if source == "demo" {
            FileHandle.standardError.write(Data("effnet: using \(ModelStore.demoNote)\n".utf8))
        }
        let labelFile = try labels.map { ($0, try Labels.read($0)) }
        let inputs = try RunInputs.expand(images, filesFrom: filesFrom, shard: try shardSpec())
        let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let config = try ModelPreprocessing.beside(model: path)
        let executable = try ExecutableModel(
            options: try ModelOptions.parse([path] + (arch.map { ["--arch", $0] } ?? [])), passes: passes,
            size: size ?? config?.size, threads: workers)
        let recorded = ModelPreprocessing.fromMetadata(executable.loaded.model.metadata, path: path)
        var prep = try Preprocessing.preset(
            name: preset ?? executable.loaded.preset ?? recorded?.preset
                ?? (executable.channelsLast ? "keras" : "torchvision"),
            size: executable.size)
        if preset == nil && executable.loaded.preset == nil { recorded?.prep.apply(to: &prep) }
        if preset == nil { executable.loaded.architecturePreprocessing?.apply(to: &prep) }
        config?.apply(to: &prep)
        if let interpolation { prep.interpolation = interpolation }
        if let cropPct { prep.cropPct = cropPct }
        if let mean { prep.mean = try Preprocessing.parseChannels(mean, option: "--mean") }
        if let std { prep.std = try Preprocessing.parseChannels(std, option: "--std") }
        try prep.validate()
        prep.layout = executable.channelsLast ? .nhwc : .nchw
        let outputName = executable.loaded.model.graph.outputs[0].name
        let endsInSoftmax = executable.loaded.model.graph.nodes.last?.opType == "Softmax"

        let writer = try RunOutput(format: format ?? (json ? .json : .text), path: output)
        let pipeline = RunPipeline(
            paths: inputs, batch: min(batch, max(1, inputs.count)), workers: workers, prep: prep,
            maxPixels: maxPixels, exifTranspose: exifTranspose)
        let started = DispatchTime.now().uptimeNanoseconds
        let progress = isatty(2) == 1 ? Progress(total: inputs.count, start: started) : nil
        var names: [String]?? = nil  // resolved at the first batch, once the class count is known
        var done = 0
        var failures = 0
        try pipeline.run { prepared in
            for failure in prepared.failures {
                progress?.clear()
                FileHandle.standardError.write(Data("effnet: \(failure)\n".utf8))
            }
            failures += prepared.failures.count
            done += prepared.paths.count + prepared.failures.count
            guard !prepared.paths.isEmpty else { return }
            let outputs = try executable.session.run([executable.inputName: prepared.tensor])
            guard let logits = outputs[outputName], logits.rank == 2, logits.shape[0] == prepared.tensor.shape[0] else {
                throw ModelUseError.reference(path: path, message: "the model's output is not [batch, classes]")
            }
            let classes = logits.shape[1]
            if names == nil { names = .some(try Labels.forModel(classes: classes, file: labelFile)) }
            let values = logits.doubles
            for (i, image) in prepared.paths.enumerated() {
                let row = Array(values[(i * classes)..<((i + 1) * classes)])
                let probabilities = endsInSoftmax ? row : Self.softmax(row)
                let best = Array(probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top))
                try writer.write(
                    RunResult.Image(
                        image: image,
                        top: best.map { k in
                            RunResult.Class(index: k, label: names!.map { $0[k] }, probability: probabilities[k])
                        }))
            }
            progress?.update(done: done)
        }
        try writer.finish()
        progress?.clear()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let classified = inputs.count - failures
        // The summary line is for many images (or a terminal): one image gets its result, or its one error line.
        if inputs.count > 1 || progress != nil {
            FileHandle.standardError.write(
                Data(
                    ("effnet: \(classified) image\(classified == 1 ? "" : "s") classified, \(failures) failed, "
                        + String(format: "%.1f images/s", Double(classified) / max(seconds, 1e-9)) + "\n").utf8))
        }
        if failures > 0 { throw ExitCode(2) }
    }

    /// Softmax in Double with the maximum subtracted (exact for any finite logits).
    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

/// A progress line on stderr (a terminal): images done of total, images/s.
final class Progress {
    let total: Int
    let start: UInt64

    init(total: Int, start: UInt64) {
        self.total = total
        self.start = start
    }

    func update(done: Int) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let line = String(format: "\r%d/%d images, %.1f images/s", done, total, Double(done) / max(seconds, 1e-9))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

/// `run`'s results: one per image, the top classes with index, label (null without labels) and probability.
struct RunResult: Encodable {
    struct Class: Encodable {
        var index: Int
        var label: String?
        var probability: Double

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(label, forKey: .label)  // null when there are no labels
            try c.encode(probability, forKey: .probability)
        }

        enum CodingKeys: String, CodingKey { case index, label, probability }
    }

    struct Image: Encodable {
        var image: String
        var top: [Class]
    }

    var results: [Image]
}

extension Interpolation: ExpressibleByArgument {}
