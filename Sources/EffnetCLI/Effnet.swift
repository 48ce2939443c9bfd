import ArgumentParser
import Foundation
import Runtime

/// The `effnet` command. Exit codes (a contract, README): 0 success; 1 `verify` found a difference beyond
/// tolerance; 2 bad input or usage, with one line on stderr naming the file and the problem.
@main
struct Effnet: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "effnet",
        abstract: "Convert, optimize, run and verify EfficientNetV2 models on the CPU.",
        discussion: """
            Every command also takes --max-memory SIZE (e.g. 512M, 4G): the largest buffer effnet allocates for a \
            size read from a file or a flag (default: half of physical memory). Inputs must be regular files.
            """,
        version: version,
        subcommands: [
            InspectCommand.self, ConvertCommand.self, VerifyCommand.self, RunCommand.self, BenchCommand.self,
            ModelCommand.self,
        ])

    /// Parses and runs a subcommand, mapping every failure onto the exit-code contract: help and version
    /// print to stdout with 0, usage errors print the first line of ArgumentParser's message with 2, model/file
    /// errors print `effnet: <file>: <description>` with 2 (`ErrorReport`), and `ExitCode` values pass through.
    /// `--max-memory` is taken out of the arguments first (it applies to every command).
    static func main() {
        let given = Array(CommandLine.arguments.dropFirst())
        let arguments: [String]
        do {
            arguments = try ErrorReport.preprocess(given)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot(arguments)
            if case .failure(let error) = KernelFamily.selection {  // EFFNET_ISA names a family this CPU lacks
                FileHandle.standardError.write(Data(("effnet: \(error.message)\n").utf8))
                Foundation.exit(2)
            }
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error where isParserError(error) {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            // Usage errors are one line too (ArgumentParser appends a usage block and help hint).
            let first = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
            FileHandle.standardError.write(Data((first + "\n").utf8))
            if given.contains("--json") { ErrorReport.printJSON(error: first, file: nil) }
            Foundation.exit(2)
        } catch {
            ErrorReport.fail(error, arguments: given)
        }
    }

    /// Errors ArgumentParser raised itself (usage, help, validation), as opposed to errors from our code.
    private static func isParserError(_ error: Error) -> Bool {
        let name = String(reflecting: type(of: error))
        return name.hasPrefix("ArgumentParser.") || error is ValidationError || error is CleanExit
    }

    /// The error's description on a single line.
    static func oneLine(_ error: Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
    }
}
