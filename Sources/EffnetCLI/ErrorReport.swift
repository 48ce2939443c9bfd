import Foundation
import IR
import Imaging

/// How every failure reaches the user: one line on stderr, `effnet: <file>: <problem>`, and with `--json` also
/// `{"error": …, "file": …}` on stdout so that scripts can parse failures.
///
/// Errors from the readers name their file themselves; errors found later (shape inference, the optimizer, the
/// runtime, the memory budget) know only nodes and tensors, so the file being worked on (`current`, set by
/// whoever opens it) is put in front of any message that names no input file.
enum ErrorReport {
    /// The model (or other input) the command is working on; named in errors that do not name a file.
    nonisolated(unsafe) static var current: String?

    /// The line to print for `error` (without the `effnet: ` prefix) and the file it is about.
    static func describe(_ error: Error, arguments: [String]) -> (line: String, file: String?) {
        let message = Effnet.oneLine(error)
        // Errors about flag values name the flag, not a file.
        if error is PreprocessingError { return (message, nil) }
        // A path the message already names: in front (`<path>: …`, any argument, such as an output not yet
        // written), or anywhere (the current file, or an argument that names an existing file).
        let paths = ([current].compactMap { $0 } + arguments.filter { !$0.hasPrefix("-") }).filter { !$0.isEmpty }
        if let named = paths.first(where: { message.hasPrefix($0 + ": ") })
            ?? paths.filter({ FileManager.default.fileExists(atPath: $0) }).first(where: { message.contains($0) })
        {
            return (message, named)
        }
        if let current { return ("\(current): \(message)", current) }
        return (message, nil)
    }

    /// Prints the failure and exits 2.
    static func fail(_ error: Error, arguments: [String]) -> Never {
        let (line, file) = describe(error, arguments: arguments)
        FileHandle.standardError.write(Data(("effnet: \(line)\n").utf8))
        if arguments.contains("--json") {
            // The problem without the file in front: the file has its own field.
            let problem = file.map { line.hasPrefix($0 + ": ") ? String(line.dropFirst($0.count + 2)) : line } ?? line
            printJSON(error: problem, file: file)
        }
        Foundation.exit(2)
    }

    /// `{"error": …, "file": …}` (file null when there is none) on stdout.
    static func printJSON(error: String, file: String?) {
        struct Failure: Encodable {
            var error: String
            var file: String?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(error, forKey: .error)
                try c.encode(file, forKey: .file)
            }
            enum CodingKeys: String, CodingKey { case error, file }
        }
        try? JSONOutput.print(Failure(error: error, file: file))
    }

    /// Arguments as the parser should see them, and the `--max-memory` value taken out of them.
    ///
    /// - `--max-memory SIZE` (or `=SIZE`) is accepted by every command and sets `MemoryBudget.limit`.
    /// - An option followed by a negative number (`--tolerance -1`) is joined into `--tolerance=-1`, so that the
    ///   command's own check reports the value ("must be a non-negative number") instead of the parser taking
    ///   `-1` for an unknown flag and saying the value is missing.
    static func preprocess(_ arguments: [String]) throws -> [String] {
        var out = [String]()
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" {
                out.append(contentsOf: arguments[i...])
                break
            }
            if a == "--max-memory" || a.hasPrefix("--max-memory=") {
                let value: String
                if a == "--max-memory" {
                    guard i + 1 < arguments.count else { throw UsageError("--max-memory needs a size (e.g. 2G)") }
                    value = arguments[i + 1]
                    i += 2
                } else {
                    value = String(a.dropFirst("--max-memory=".count))
                    i += 1
                }
                guard let bytes = MemoryBudget.parse(value) else {
                    throw UsageError("--max-memory must be a positive size such as 512M or 2G, got '\(value)'")
                }
                MemoryBudget.limit = bytes
                MemoryBudget.fromFlag = true
                continue
            }
            if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                out.append(a + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }

    static func isNegativeNumber(_ s: String) -> Bool {
        guard s.hasPrefix("-"), s.count > 1 else { return false }
        let rest = s.dropFirst()
        return rest.first.map { $0.isNumber || $0 == "." } == true && Double(rest) != nil
            || rest.lowercased() == "inf"
    }

    /// A usage problem found before ArgumentParser runs.
    struct UsageError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
