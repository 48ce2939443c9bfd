import ArgumentParser
import Effnet
import Formats
import Foundation

/// The user's default model for `run` without `-m`: one file, `default.onnx`, `default.npz` (or another checkpoint
/// kind: `default.safetensors`, `.pytorch`, `.hdf5`, `.keras`), in the user's data folder (`$XDG_DATA_HOME/effnet/`,
/// else `~/.local/share/effnet/`), put there by `effnet model install`. Beside it, `default.source` records where it
/// came from (`demo` for the bundled demo model, else the installed path).
enum ModelStore {
    /// The file names a default model may have: one per model kind.
    static let defaultNames = LoadedModel.Format.allCases.map { "default." + $0.rawValue }

    /// The command that installs a default model; every "no model" message names it.
    static let installCommand = "effnet model install"

    static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/effnet" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/effnet"
    }

    static var sourceFile: String { directory + "/default.source" }

    /// The installed default model, when there is one.
    static var installed: String? {
        for name in Self.defaultNames {
            let path = directory + "/" + name
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// Whether the installed default is the bundled demo model.
    static var installedIsDemo: Bool {
        (try? String(contentsOfFile: sourceFile, encoding: .utf8))?.hasPrefix("demo") ?? false
    }

    /// The bundled demo model: the reduced timm `tf_efficientnetv2_b0` fixture of the source tree effnet was built
    /// from (random, calibrated weights: its classes mean nothing).
    static var demoModel: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(
                "fixtures/models/timm_tf_efficientnetv2_b0/torchscript.onnx"
            )
            .path
    }

    static let demoNote =
        "the bundled demo model (a reduced tf_efficientnetv2_b0 with random weights: its classes mean nothing)"

    struct NoModel: Error, CustomStringConvertible {
        var description: String {
            "no model: run `\(ModelStore.installCommand)` (or pass -m MODEL, or set EFFNET_MODEL)"
        }
    }

    /// The model `run` uses: `-m`, else `$EFFNET_MODEL`, else the installed default. `source` says which.
    static func resolve(_ option: String?) throws -> (path: String, source: String) {
        if let option, !option.isEmpty { return (option, "-m") }
        if let env = ProcessInfo.processInfo.environment["EFFNET_MODEL"], !env.isEmpty { return (env, "EFFNET_MODEL") }
        if let path = installed { return (path, installedIsDemo ? "demo" : "installed") }
        throw NoModel()
    }

    /// Installs `source` (or the demo model) as the default: checks that it loads, then writes it atomically into
    /// the data folder. An ONNX file is rewritten as one self-contained file (external data included); a checkpoint
    /// is copied byte for byte.
    static func install(_ source: String?, arch: String?) throws -> String {
        let path = source ?? demoModel
        if source == nil && !FileManager.default.fileExists(atPath: path) {
            throw ModelUseError.reference(
                path: path,
                message: "the bundled demo model is not here (effnet was moved from its source tree); "
                    + "pass a model: effnet model install MODEL")
        }
        ErrorReport.current = path
        let loaded = try ModelLoader.load(path: path, arch: arch)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = directory + "/default." + loaded.format.rawValue
        switch loaded.format {
        case .onnx: try ONNXWriter.write(loaded.model, to: destination)
        case .npz, .safetensors, .pytorch, .hdf5, .keras:
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ModelUseError.reference(path: path, message: "cannot read the model")
            }
            try AtomicFileWriter.write([UInt8](bytes), to: destination)
        }
        for other in Self.defaultNames where directory + "/" + other != destination {
            try? FileManager.default.removeItem(atPath: directory + "/" + other)
        }
        let note = source == nil ? "demo\n" : "installed from \(URL(fileURLWithPath: path).standardizedFileURL.path)\n"
        try AtomicFileWriter.write(Array(note.utf8), to: sourceFile)
        return destination
    }
}

/// `effnet model list|install|path`: the default model `run` uses without `-m`.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Manage the default model that `run` uses without -m.",
        discussion: """
            The default model lives in $XDG_DATA_HOME/effnet/ (else ~/.local/share/effnet/). `run` uses -m, else \
            $EFFNET_MODEL, else that default.
            """,
        subcommands: [List.self, Install.self, Path.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the installed default model.")

        func run() throws {
            print("folder: \(ModelStore.directory)")
            if let path = ModelStore.installed {
                let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                let from = (try? String(contentsOfFile: ModelStore.sourceFile, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let what = ModelStore.installedIsDemo ? ModelStore.demoNote : (from ?? "installed")
                print(
                    "default: \(path) (\(String(format: "%.2f MB", Double(bytes ?? 0) / 1e6)); \(what))")
            } else {
                print("default: none (run `\(ModelStore.installCommand)`)")
            }
            if let env = ProcessInfo.processInfo.environment["EFFNET_MODEL"], !env.isEmpty {
                print("EFFNET_MODEL: \(env) (used instead of the default)")
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install MODEL (default: the bundled demo model) as the default model.")

        @Argument(help: "An ONNX file or .npz checkpoint. Default: the bundled demo model.")
        var model: String?

        @Option(help: "Architecture name for an .npz checkpoint, overriding detection.")
        var arch: String?

        func run() throws {
            let path = try ModelStore.install(model, arch: arch)
            if model == nil {
                FileHandle.standardError.write(Data("effnet: installed \(ModelStore.demoNote)\n".utf8))
            }
            print(path)
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the model `run` uses without -m ($EFFNET_MODEL, else the default).")

        func run() throws {
            print(try ModelStore.resolve(nil).path)
        }
    }
}
