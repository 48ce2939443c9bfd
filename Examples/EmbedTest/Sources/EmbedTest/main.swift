import Effnet
import EffnetRuntime
import Foundation

// Usage: EmbedTest REPOSITORY EFFNET
//
// Classifies a fixture photo with a fixture model through the public API only, and checks the answer against
// `effnet run --json` (the CLI binary EFFNET), against the runtime alone, and against the same network read from
// its checkpoint. Exits 1 on the first disagreement, naming it.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("embed test: FAILED: \(message)\n".utf8))
    exit(1)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail("usage: EmbedTest REPOSITORY EFFNET") }
let root = arguments[1]
let effnet = arguments[2]
let fixture = root + "/fixtures/models/timm_tf_efficientnetv2_b0"
let model = fixture + "/torchscript.onnx"
let image = root + "/fixtures/images/grace_hopper.jpg"

do {
    // 1. The README's examples are the ones compiled here, character for character.
    let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
    let example = try String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Example.swift"),
        encoding: .utf8)
    guard let section = readme.components(separatedBy: "\n## Using effnet from Swift\n").dropFirst().first else {
        fail("README.md has no section 'Using effnet from Swift'")
    }
    let blocks = section.components(separatedBy: "\n## ")[0].components(separatedBy: "```swift\n").dropFirst()
        .map { $0.components(separatedBy: "```")[0] }
    check(!blocks.isEmpty, "README's 'Using effnet from Swift' has no swift block")
    for block in blocks {
        check(example.contains(block), "README's example is not in Example.swift verbatim:\n\(block)")
    }

    // 2. The README's classifier against the command line's answer (same model, same defaults).
    let mine = try topClasses(model: model, image: image)
    check(mine.count == 5, "topClasses gave \(mine.count) classes, not 5")
    let cli = Process()
    cli.executableURL = URL(fileURLWithPath: effnet)
    cli.arguments = ["run", image, "-m", model, "--top", "5", "--json"]
    let pipe = Pipe()
    cli.standardOutput = pipe
    try cli.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    cli.waitUntilExit()
    check(cli.terminationStatus == 0, "effnet run exited with \(cli.terminationStatus)")
    guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let results = json["results"] as? [[String: Any]], let top = results.first?["top"] as? [[String: Any]]
    else { fail("effnet run --json printed no results") }
    let expected = top.map { ($0["index"] as? Int ?? -1, $0["probability"] as? Double ?? -1) }
    check(
        mine.map(\.index) == expected.map(\.0),
        "classes \(mine.map(\.index)) differ from effnet run's \(expected.map(\.0))")
    for (c, e) in zip(mine, expected) {
        check(abs(c.probability - e.1) <= 1e-6, "class \(c.index): probability \(c.probability), effnet run \(e.1)")
    }

    // 3. The runtime alone on the classifier's preprocessed pixels: the same logits, so the same ranking.
    let classifier = try ImageClassifier(contentsOf: model, options: .init(threads: 1))
    let pixels = try classifier.preprocess(imageAt: image)
    check(pixels.shape == [1, 3, 100, 100], "preprocessed shape \(pixels.shape), expected [1, 3, 100, 100]")
    let raw = try logits(model: model, pixels: pixels.floats, size: classifier.inputSize).map(Double.init)
    check(raw.count == 40, "the runtime gave \(raw.count) logits, expected 40")
    let m = raw.max()!
    let e = raw.map { Foundation.exp($0 - m) }
    let p = e.map { $0 / e.reduce(0, +) }
    for c in mine {
        check(abs(p[c.index] - c.probability) <= 1e-5, "class \(c.index): runtime \(p[c.index]), classifier \(c.probability)")
    }

    // 4. The same network from its timm checkpoint (architecture detected from the weights) against the ONNX
    //    export, both at 100x100 with timm's preprocessing: two files, one answer (within float32 rounding).
    let fromCheckpoint = try ImageClassifier(
        contentsOf: fixture + "/checkpoint.npz", options: .init(inputSize: 100, preset: "timm"))
    check(fromCheckpoint.format == "npz", "checkpoint format \(fromCheckpoint.format)")
    check(
        fromCheckpoint.architecture?.hasPrefix("tf_efficientnetv2") == true,
        "checkpoint architecture \(fromCheckpoint.architecture ?? "nil")")
    let viaTimm = try ImageClassifier(contentsOf: model, options: .init(inputSize: 100, preset: "timm"))
    let a = try fromCheckpoint.classify(imageAt: image, top: 3)
    let b = try viaTimm.classify(imageAt: image, top: 3)
    check(a.map(\.index) == b.map(\.index), "checkpoint classes \(a.map(\.index)), ONNX \(b.map(\.index))")
    for (x, y) in zip(a, b) {
        check(abs(x.probability - y.probability) <= 1e-4, "class \(x.index): checkpoint \(x.probability), ONNX \(y.probability)")
    }

    // 5. Labels: a file with one name per class names every result; a wrong count is an error naming the file.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-embed-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let labels = folder.appendingPathComponent("labels.txt").path
    try (0..<40).map { "class \($0)" }.joined(separator: "\n").write(toFile: labels, atomically: true, encoding: .utf8)
    let labelled = try ImageClassifier(contentsOf: model, options: .init(labels: labels)).classify(imageAt: image)
    check(labelled.allSatisfy { $0.label == "class \($0.index)" }, "labels not applied: \(labelled)")
    let short = folder.appendingPathComponent("short.txt").path
    try "one\ntwo\n".write(toFile: short, atomically: true, encoding: .utf8)
    do {
        _ = try ImageClassifier(contentsOf: model, options: .init(labels: short)).classify(imageAt: image)
        fail("a 2-name labels file was accepted for 40 classes")
    } catch {
        check("\(error)".contains("short.txt"), "labels error does not name the file: \(error)")
    }

    // 6. A broken model file is an error that names it, never a crash.
    let broken = root + "/fixtures/bad/truncated.onnx"
    do {
        _ = try ImageClassifier(contentsOf: broken)
        fail("truncated.onnx was accepted")
    } catch {
        check("\(error)".contains("truncated.onnx"), "error does not name the file: \(error)")
    }
    do {
        _ = try Session(contentsOf: model, inputShapes: ["input": [1, 3, 64, 64]])
        fail("a Session bound a fixed 100x100 input to 64x64")
    } catch {
        check("\(error)".contains("input"), "binding error does not name the input: \(error)")
    }

    // 7. A bfloat16 model's output holds bfloat16 values (computed in float32, rounded as `effnet run` does).
    let bf16 = try Session(contentsOf: root + "/fixtures/hostile/bfloat16_add.onnx")
    let x = Tensor(shape: [8], floats: (0..<8).map { 1 + Float($0) * 0.0013 })
    let sums = try bf16.run(["x": x])["y"]?.floats ?? []
    check(sums.count == 8, "bfloat16_add.onnx gave \(sums.count) values, not 8")
    check(sums.allSatisfy { $0.bitPattern & 0xFFFF == 0 }, "bfloat16 output not rounded to bfloat16: \(sums)")

    print(
        "embed test: passed (\(mine[0].index) \(String(format: "%.4f", mine[0].probability)) top-1, as effnet run; "
            + "runtime, checkpoint and labels agree)")
} catch {
    fail("\(error)")
}
