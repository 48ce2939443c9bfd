import Foundation

/// Runs the built `effnet` binary (`$EFFNET_BIN`, or this package's `effnet` of the configuration the tests were
/// built in: `.build/debug/effnet`, or `.build/release/effnet` under `swift test -c release`) and captures its exit
/// status, stdout and stderr.
enum EffnetProcess {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: String {
        ProcessInfo.processInfo.environment["EFFNET_BIN"]
            ?? root.appendingPathComponent(".build/\(configuration)/effnet").path
    }

    #if DEBUG
        static let configuration = "debug"
    #else
        static let configuration = "release"
    #endif

    static func fixture(_ relative: String) -> String { root.appendingPathComponent("fixtures/" + relative).path }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> Result
    {
        let process = try start(arguments, environment: environment, directory: directory)
        process.process.waitUntilExit()
        return Result(
            status: process.process.terminationStatus, stdout: try String(contentsOf: process.out, encoding: .utf8),
            stderr: try String(contentsOf: process.err, encoding: .utf8))
    }

    /// Starts the binary with stdout and stderr going to temporary files (no pipe can fill up and block it).
    static func start(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> (
        process: Process, out: URL, err: URL
    ) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("stdout")
        let err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// A fresh empty directory for outputs.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every model fixture folder (`fixtures/models/<id>`), sorted.
    static var modelIDs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture("models"))) ?? []).sorted()
    }

    /// Every ONNX export, as `<id>/<export>.onnx`.
    static var onnxFixtures: [String] {
        modelIDs.flatMap { id in
            (((try? FileManager.default.contentsOfDirectory(atPath: fixture("models/\(id)"))) ?? [])
                .filter { $0.hasSuffix(".onnx") }.sorted()).map { "\(id)/\($0)" }
        }
    }

    /// `--arch` for a fixture checkpoint whose variant its weights cannot tell (reduced Keras: B-series or S).
    static func archArguments(_ id: String) -> [String] {
        switch id {
        case "keras_efficientnetv2_b0": ["--arch", "EfficientNetV2B0"]
        case "keras_efficientnetv2_s": ["--arch", "EfficientNetV2S"]
        default: []
        }
    }

    /// Tolerance arguments for a fixture's reference: logits at 1e-4; Keras softmax outputs (≈1e-3 … 0.6) with
    /// a relative tolerance that still means something for small probabilities.
    static func toleranceArguments(_ id: String) -> [String] {
        id.hasPrefix("keras") ? ["--atol", "1e-6", "--rtol", "1e-4"] : ["--tolerance", "1e-4"]
    }
}
