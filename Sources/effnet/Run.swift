import ArgumentParser
import Foundation
import IR
import Imaging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Classify images with a model on the native runtime.")

    @Argument(help: "JPEG or PNG images.")
    var images: [String]

    @Option(
        name: [.short, .customLong("model")],
        help: "The model (.onnx or .npz). Default: $EFFNET_MODEL, else the one `effnet model install` put in place.")
    var model: String?

    @Option(help: "Architecture for an .npz checkpoint, overriding detection.")
    var arch: String?

    @OptionGroup var passes: PassOptions

    @Option(help: "How many classes to print per image.")
    var top = 5

    @Option(help: "A text file with one class label per line.")
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

    @Flag(help: "Print one JSON document.")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let size, size < 1 { throw ValidationError("--size must be positive") }
        if let cropPct, !(cropPct > 0 && cropPct <= 1) { throw ValidationError("--crop-pct must be in (0, 1]") }
        if let threads, !(1...CLILimits.maxThreads).contains(threads) { throw ValidationError(CLILimits.threadsMessage) }
    }

    func run() throws {
        let (path, source) = try ModelStore.resolve(model)
        if source == "demo" {
            FileHandle.standardError.write(Data("effnet: using \(ModelStore.demoNote)\n".utf8))
        }
        let labelNames = try labels.map(Self.readLabels)
        let decoded = try images.map { try RGBImage(contentsOf: $0) }
        let executable = try ExecutableModel(
            options: try ModelOptions.parse([path] + (arch.map { ["--arch", $0] } ?? [])), passes: passes,
            size: size, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        var prep = try Preprocessing.preset(
            name: preset ?? executable.loaded.preset ?? (executable.channelsLast ? "keras" : "torchvision"),
            size: executable.size)
        if preset == nil { executable.loaded.config?.apply(to: &prep) }  // a timm config.json beside the weights
        if let interpolation { prep.interpolation = interpolation }
        if let cropPct { prep.cropPct = cropPct }
        if let mean { prep.mean = try Preprocessing.parseChannels(mean, option: "--mean") }
        if let std { prep.std = try Preprocessing.parseChannels(std, option: "--std") }
        try prep.validate()
        let input = prep.tensor(from: decoded, layout: executable.channelsLast ? .nhwc : .nchw)
        let outputs = try executable.session.run([executable.inputName: input])
        let outputName = executable.loaded.model.graph.outputs[0].name
        guard let logits = outputs[outputName], logits.rank == 2, logits.shape[0] == images.count else {
            throw ModelUseError.reference(path: path, message: "the model's output is not [batch, classes]")
        }
        let endsInSoftmax = executable.loaded.model.graph.nodes.last?.opType == "Softmax"
        var results = [RunResult.Image]()
        let classes = logits.shape[1]
        let values = logits.doubles
        for (i, image) in images.enumerated() {
            let row = Array(values[(i * classes)..<((i + 1) * classes)])
            let probabilities = endsInSoftmax ? row : Self.softmax(row)
            let top = Array(probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(self.top))
            results.append(
                RunResult.Image(
                    image: image,
                    top: top.map { k in
                        RunResult.Class(
                            index: k, label: labelNames.flatMap { k < $0.count ? $0[k] : nil },
                            probability: probabilities[k])
                    }))
        }
        let result = RunResult(results: results)
        if json {
            try JSONOutput.print(result)
        } else {
            for r in results {
                print(r.image)
                for c in r.top {
                    let index = String(c.index)
                    let padded = String(repeating: " ", count: max(0, 5 - index.count)) + index
                    print("  \(padded)  \(String(format: "%.4f", c.probability))" + (c.label.map { "  " + $0 } ?? ""))
                }
            }
        }
    }

    /// Softmax in Double with the maximum subtracted (exact for any finite logits).
    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func readLabels(_ path: String) throws -> [String] {
        // A regular file only (a FIFO would block), of a size a label list can have.
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.readAll(path, limit: 64 << 20)
        } catch {
            throw ModelUseError.reference(path: path, message: "cannot read the labels file: \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ModelUseError.reference(path: path, message: "the labels file is not UTF-8 text")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// `run --json`: `{"results":[{"image", "top":[{"index","label","probability"}]}]}`.
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
