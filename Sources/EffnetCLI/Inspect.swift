import ArgumentParser
import Effnet

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model: format, inputs and outputs, operators, parameters, MACs and its blocks.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var passes: PassOptions

    @Flag(help: "Print one JSON document.")
    var json = false

    func run() throws {
        let (result, text) = try ModelSummary.inspect(try model.load(), passes: passes.selection)
        if json {
            try JSONOutput.print(result)
        } else {
            print(text)
        }
    }
}
