import Foundation
import Testing

/// The three commands the README opens with, typed exactly as a new user types them, in a folder holding a copy of
/// a fixture model (`model.onnx`) and photo (`image.jpg`), with the user's data folder in a fresh temporary place.
@Suite struct FirstCommandsTests {
    static let model = "models/timm_tf_efficientnetv2_b0/torchscript.onnx"

    /// A user's folder with `model.onnx` and `image.jpg`, and an empty data folder (XDG_DATA_HOME) beside it.
    struct UserFolder {
        var dir: URL
        var data: URL
        var environment: [String: String] { ["XDG_DATA_HOME": data.path, "EFFNET_MODEL": ""] }

        init() throws {
            let root = try EffnetProcess.scratch()
            dir = root.appendingPathComponent("work")
            data = root.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: EffnetProcess.fixture(FirstCommandsTests.model),
                toPath: dir.appendingPathComponent("model.onnx").path)
            try FileManager.default.copyItem(
                atPath: EffnetProcess.fixture("images/grace_hopper.jpg"),
                toPath: dir.appendingPathComponent("image.jpg").path)
        }

        func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> EffnetProcess.Result {
            try EffnetProcess.run(arguments, environment: environment.merging(extra) { $1 }, directory: dir)
        }
    }

    @Test func theThreeCommandsWorkAsTyped() throws {
        let user = try UserFolder()
        let install = try user.run(["model", "install"])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stderr.contains("demo model"), "\(install.stderr)")
        let installed = user.data.appendingPathComponent("effnet/default.onnx").path
        #expect(install.stdout == installed + "\n")

        let convert = try user.run(["convert", "model.onnx"])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.hasPrefix("model.onnx (onnx") && convert.stdout.contains("→ model.effnet.onnx\n"))
        #expect(FileManager.default.fileExists(atPath: user.dir.appendingPathComponent("model.effnet.onnx").path))

        let verify = try user.run(["verify", "model.onnx", "--tolerance", "1e-4"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("model.onnx: PASSED (atol 0.0001, rtol 0.0001)"), "\(verify.stdout)")

        let run = try user.run(["run", "image.jpg"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6 && lines[0] == "image.jpg", "\(run.stdout)")
        let probabilities = lines.dropFirst().compactMap {
            $0.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }
        #expect(probabilities.count == 5 && probabilities == probabilities.sorted(by: >), "\(run.stdout)")
        let notes = run.stderr.split(separator: "\n").map(String.init)
        #expect(notes.count == 1, "\(run.stderr)")
        #expect(
            notes.first
                == "effnet: using the bundled demo model (a reduced tf_efficientnetv2_b0 with random weights: its classes mean nothing)"
        )
    }

    /// The README shows the three commands in its first lines, and `run`'s output there is what it prints.
    @Test func readmeShowsTheCommandsWithTheirOutput() throws {
        let readme = try String(contentsOf: EffnetProcess.root.appendingPathComponent("README.md"), encoding: .utf8)
        let head = readme.split(separator: "\n", omittingEmptySubsequences: false).prefix(60).joined(separator: "\n")
        for command in [
            "$ effnet convert model.onnx", "$ effnet verify model.onnx --tolerance 1e-4", "$ effnet run image.jpg",
        ] {
            #expect(head.contains(command + "\n"), "README's first lines lack '\(command)'")
        }
        let user = try UserFolder()
        #expect(try user.run(["model", "install"]).status == 0)
        let run = try user.run(["run", "image.jpg"])
        #expect(run.status == 0)
        let shown = try #require(head.components(separatedBy: "$ effnet run image.jpg\n").last)
        // The summary's images/s differs from run to run; the rest is what the README shows.
        let demoLine = run.stderr.split(separator: "\n").first.map { $0 + "\n" } ?? ""
        #expect(
            shown.hasPrefix(demoLine + run.stdout), "README shows:\n\(shown)\nrun prints:\n\(run.stderr)\(run.stdout)"
        )
    }

    @Test func convertingTwiceRefusesTheSecondTime() throws {
        let user = try UserFolder()
        #expect(try user.run(["convert", "model.onnx"]).status == 0)
        let out = user.dir.appendingPathComponent("model.effnet.onnx")
        let first = try Data(contentsOf: out)
        try Data("mine".utf8).write(to: out)
        let again = try user.run(["convert", "model.onnx"])
        #expect(again.status == 2)
        #expect(
            again.stderr
                == "effnet: model.effnet.onnx: already exists (an earlier convert?); pass --force to replace it, or -o OUT to write elsewhere\n"
        )
        #expect(again.stdout.isEmpty)
        #expect(try Data(contentsOf: out) == Data("mine".utf8))
        #expect(try user.run(["convert", "model.onnx", "--force"]).status == 0)
        #expect(try Data(contentsOf: out) == first)
        // -o naming the file replaces it too.
        try Data("mine".utf8).write(to: out)
        #expect(try user.run(["convert", "model.onnx", "-o", "model.effnet.onnx"]).status == 0)
        #expect(try Data(contentsOf: out) == first)
    }

    @Test func checkpointConvertsToTheSameStemOnnx() throws {
        let user = try UserFolder()
        try FileManager.default.copyItem(
            atPath: EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz"),
            toPath: user.dir.appendingPathComponent("weights.npz").path)
        let r = try user.run(["convert", "weights.npz"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("→ weights.onnx\n"))
        #expect(FileManager.default.fileExists(atPath: user.dir.appendingPathComponent("weights.onnx").path))
    }

    @Test func runWithoutAnyModelNamesTheCommandThatFixesIt() throws {
        let user = try UserFolder()
        let r = try user.run(["run", "image.jpg"])
        #expect(r.status == 2)
        #expect(r.stderr == "effnet: no model: run `effnet model install` (or pass -m MODEL, or set EFFNET_MODEL)\n")
        #expect(r.stdout.isEmpty)
        let path = try user.run(["model", "path"])
        #expect(path.status == 2 && path.stderr.contains("effnet model install"))
        #expect(try user.run(["model", "list"]).stdout.contains("default: none (run `effnet model install`)"))
    }

    @Test func environmentModelWinsOverTheInstalledOne() throws {
        let user = try UserFolder()
        #expect(try user.run(["model", "install"]).status == 0)
        let installed = user.data.appendingPathComponent("effnet/default.onnx").path
        #expect(try user.run(["model", "path"]).stdout == installed + "\n")
        let env = ["EFFNET_MODEL": "model.onnx"]
        #expect(try user.run(["model", "path"], environment: env).stdout == "model.onnx\n")
        let r = try user.run(["run", "image.jpg"], environment: env)
        #expect(r.status == 0 && !r.stderr.contains("demo"), "\(r.stderr)")
    }

    @Test func installingAFileMakesItTheDefault() throws {
        let user = try UserFolder()
        let checkpoint = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz")
        let r = try user.run(["model", "install", checkpoint])
        #expect(r.status == 0 && !r.stderr.contains("demo"), "\(r.stderr)")
        let installed = user.data.appendingPathComponent("effnet/default.npz").path
        #expect(r.stdout == installed + "\n")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: installed)) == Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        let list = try user.run(["model", "list"])
        #expect(list.stdout.contains("default: \(installed)") && list.stdout.contains("installed from \(checkpoint)"))
        let run = try user.run(["run", "image.jpg", "--top", "1"])
        #expect(run.status == 0 && !run.stderr.contains("demo"), "\(run.stderr)")
        // A file that is not a model is refused and leaves the default as it was.
        let bad = try user.run(["model", "install", "image.jpg"])
        #expect(bad.status == 2 && bad.stderr.contains("image.jpg"))
        #expect(FileManager.default.fileExists(atPath: installed))
    }
}
