import ArgumentParser

@main
struct Effnet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "effnet",
        abstract: "Convert, optimize, run and verify EfficientNetV2 models on the CPU.",
        subcommands: [])
}
